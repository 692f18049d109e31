/**
 * Notices for the person (settings repaired, engine failed to start, …): kept until dismissed,
 * so a page that loads after the fact still lists them, and pushed to pages as they come.
 */
import type { AppNotice } from '../common/ipc-contract.js';

export type NoticeInput = Omit<AppNotice, 'id'>;

export class NoticeBoard {
  private readonly notices: AppNotice[] = [];
  private readonly listeners = new Set<(notice: AppNotice) => void>();
  private nextId = 1;

  /** Adds a notice; the same notice again while the first is still shown is not repeated. */
  add(input: NoticeInput): AppNotice {
    const same = this.notices.find((n) => n.text === input.text && n.level === input.level && n.opensSettings === input.opensSettings);
    if (same) return same;
    const notice: AppNotice = { id: `notice-${this.nextId++}`, ...input };
    this.notices.push(notice);
    this.listeners.forEach((l) => l(notice));
    return notice;
  }

  list(): AppNotice[] {
    return this.notices.map((n) => ({ ...n }));
  }

  /** False if there is no such notice (already dismissed). */
  dismiss(id: string): boolean {
    const i = this.notices.findIndex((n) => n.id === id);
    if (i >= 0) this.notices.splice(i, 1);
    return i >= 0;
  }

  onAdded(listener: (notice: AppNotice) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
