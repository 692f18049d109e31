/**
 * The app's notices (common/ipc-contract.ts AppNotice: a settings file that was repaired, a
 * built-in media server that could not start, …), shown until dismissed: as cards at the
 * page's top right, and at the top of the Settings dialog. A notice whose fix is a setting
 * (`opensSettings`) opens the dialog when it arrives.
 */
import type { AppNotice, MagicMirrorApi } from '../../common/ipc-contract.js';
import { SETTINGS_TEXT as T } from '../messages.js';
import { h, icon, ICONS } from './dom.js';

export class NoticeCenter {
  private readonly notices: AppNotice[] = [];
  /** The cards over the page. */
  readonly pageList = h('section', { id: 'notices', class: 'notice-stack', attrs: { 'aria-label': T.notices, 'aria-live': 'polite' } });
  /** The list inside the Settings dialog. */
  readonly dialogList = h('section', { id: 'settings-notices', class: 'settings-notices', attrs: { 'aria-label': T.notices }, hidden: true });

  constructor(
    private readonly api: MagicMirrorApi['notices'],
    private readonly openSettings: () => void,
  ) {
    document.body.append(this.pageList);
  }

  /** Lists the notices so far (some came before the page loaded) and follows new ones. */
  async start(): Promise<void> {
    this.api.onAdded((notice) => this.add(notice));
    const list = await this.api.list();
    list.forEach((n) => this.add(n));
  }

  private add(notice: AppNotice): void {
    if (this.notices.some((n) => n.id === notice.id)) return;
    this.notices.push(notice);
    this.render();
    if (notice.opensSettings) this.openSettings();
  }

  private dismiss(id: string): void {
    const i = this.notices.findIndex((n) => n.id === id);
    if (i >= 0) this.notices.splice(i, 1);
    this.render();
    this.api.dismiss(id).catch((err: Error) => console.warn(`dismissing a notice failed: ${err.message}`));
  }

  private render(): void {
    this.pageList.replaceChildren(...this.notices.map((n) => this.card(n, true)));
    this.dialogList.replaceChildren(...this.notices.map((n) => this.card(n, false)));
    this.dialogList.hidden = this.notices.length === 0;
  }

  private card(n: AppNotice, onPage: boolean): HTMLElement {
    const dismiss = h('button', { type: 'button', class: 'notice-dismiss', title: T.dismiss, attrs: { 'aria-label': T.dismiss } }, icon(ICONS.close));
    dismiss.addEventListener('click', () => this.dismiss(n.id));
    let open: HTMLButtonElement | null = null;
    if (onPage && n.opensSettings) {
      open = h('button', { type: 'button', class: 'button button-ghost notice-open', text: T.openSettings });
      open.addEventListener('click', () => this.openSettings());
    }
    return h('article', { class: 'app-notice', dataset: { level: n.level, notice: n.id }, attrs: { role: n.level === 'error' ? 'alert' : 'status' } },
      icon(n.level === 'info' ? ICONS.info : ICONS.warning, 'icon app-notice-icon'),
      h('p', { class: 'app-notice-text', text: n.text }),
      open,
      dismiss);
  }
}
