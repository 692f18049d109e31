/**
 * Kiosk mode hides the mouse pointer while it is still (a pointer parked over the mirror looks
 * like a fault) and shows it again as soon as it moves. A class on <html>: kiosk.css has the rule.
 */
export const CURSOR_IDLE_MS = 3000;
export const CURSOR_HIDDEN_CLASS = 'kiosk-cursor-hidden';

export class CursorHider {
  private timer = 0;

  constructor(
    private readonly root: HTMLElement = document.documentElement,
    private readonly idleMs = CURSOR_IDLE_MS,
  ) {
    const moved = () => this.moved();
    root.ownerDocument.addEventListener('pointermove', moved, { passive: true });
    root.ownerDocument.addEventListener('pointerdown', moved, { passive: true });
    this.moved();
  }

  private moved(): void {
    this.root.classList.remove(CURSOR_HIDDEN_CLASS);
    clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.root.classList.add(CURSOR_HIDDEN_CLASS), this.idleMs);
  }
}
