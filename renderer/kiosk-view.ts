/**
 * Kiosk mode's recovery card: over the mirror while it recovers, so the screen is never black
 * and never a dead end — "Reconnecting…", why, and when the next try comes. Built here rather
 * than in index.html (the page without kiosk mode does not need it).
 */
import type { RecoveryState } from '../common/recovery.js';
import { KIOSK_TEXT, PROBLEMS } from './messages.js';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, id?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = className;
  if (id) e.id = id;
  return e;
}

/** The title of a problem code, as the page names it elsewhere. */
function reasonText(code: string): string {
  return (PROBLEMS as Record<string, { title: string } | undefined>)[code]?.title ?? PROBLEMS.internal.title;
}

export class KioskRecoveryCard {
  private readonly root = el('div', 'cover-card kiosk-recovery', 'kiosk-recovery');
  private readonly title = el('h2', 'kiosk-recovery-title', 'kiosk-recovery-title');
  private readonly reason = el('p', 'kiosk-recovery-reason', 'kiosk-recovery-reason');
  private readonly next = el('p', 'kiosk-recovery-next', 'kiosk-recovery-next');
  private ticker = 0;

  constructor(frame: HTMLElement) {
    this.root.setAttribute('role', 'status');
    this.root.setAttribute('aria-live', 'polite');
    this.root.hidden = true;
    this.root.append(el('div', 'kiosk-recovery-spinner'), this.title, this.reason, this.next);
    frame.append(this.root);
  }

  show(state: RecoveryState): void {
    clearInterval(this.ticker);
    this.root.dataset.kind = state.kind;
    switch (state.kind) {
      case 'off':
      case 'ok':
        this.root.hidden = true;
        return;
      case 'reconnecting': {
        this.title.textContent = KIOSK_TEXT.reconnecting;
        this.reason.textContent = reasonText(state.reason);
        this.root.dataset.reason = state.reason;
        const tick = () => {
          const seconds = Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000));
          this.next.textContent = `${KIOSK_TEXT.reconnectingIn(seconds)} · ${KIOSK_TEXT.attempt(state.attempt)}`;
        };
        tick();
        this.ticker = window.setInterval(tick, 500);
        break;
      }
      case 'resuming':
        this.title.textContent = KIOSK_TEXT.reconnecting;
        this.reason.textContent = reasonText(state.reason);
        this.root.dataset.reason = state.reason;
        this.next.textContent = KIOSK_TEXT.resuming;
        break;
      case 'waiting-for-camera':
        this.title.textContent = KIOSK_TEXT.waitingForCamera;
        this.reason.textContent = reasonText(state.reason);
        this.root.dataset.reason = state.reason;
        this.next.textContent = KIOSK_TEXT.waitingForCameraHint;
        break;
      case 'gave-up':
        this.title.textContent = KIOSK_TEXT.gaveUp;
        this.reason.textContent = reasonText(state.reason);
        this.root.dataset.reason = state.reason;
        this.next.textContent = (PROBLEMS as Record<string, { hint: string } | undefined>)[state.reason]?.hint ?? '';
        break;
    }
    this.root.hidden = false;
  }
}
