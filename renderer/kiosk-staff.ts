/**
 * Kiosk mode's staff dialog, opened by the staff shortcut (Ctrl+Alt+K, or five quick taps in
 * the top-left corner of a touch screen): the PIN, then Quit / Settings / Change PIN. Every
 * decision is the main process's (window.magicMirrorKiosk → main/kiosk/): the page only asks;
 * a wrong PIN, a lockout and the staff session's end are its answers.
 */
import type { KioskApi } from '../common/kiosk-contract.js';
import { KIOSK_TEXT } from './messages.js';

/** Five taps within TAP_WINDOW_MS in the TAP_CORNER_PX square at the top left. */
export const TAPS = 5;
export const TAP_WINDOW_MS = 3000;
export const TAP_CORNER_PX = 80;

/** Whether a key event is the staff shortcut. */
export function isStaffShortcut(e: Pick<KeyboardEvent, 'ctrlKey' | 'altKey' | 'metaKey' | 'shiftKey' | 'code'>): boolean {
  return e.code === 'KeyK' && e.altKey && (e.ctrlKey || e.metaKey) && !e.shiftKey;
}

/** Keeps tap times; true when the latest tap completes the gesture. */
export function cornerTaps(times: number[], tap: { x: number; y: number; t: number }): { times: number[]; open: boolean } {
  if (tap.x > TAP_CORNER_PX || tap.y > TAP_CORNER_PX) return { times: [], open: false };
  const recent = [...times.filter((t) => tap.t - t < TAP_WINDOW_MS), tap.t];
  return recent.length >= TAPS ? { times: [], open: true } : { times: recent, open: false };
}

type Step = 'enter' | 'choose' | 'confirm' | 'menu' | 'no-bridge' | 'locked';

/**
 * A kiosk without a usable staff PIN: nothing to enter, and no PIN may be chosen at the screen
 * (main/kiosk/kiosk-service.ts). Kept here, beside the one dialog that shows them.
 */
export const NO_PIN_TEXT = {
  unset: 'No staff PIN is set on this kiosk. Set one from outside the kiosk (see the kiosk security notes).',
  damaged: 'The staff PIN file is damaged. Reset it from outside the kiosk (see the kiosk security notes).',
} as const;

export class StaffDialog {
  private readonly root = document.createElement('div');
  private readonly title = document.createElement('h2');
  private readonly message = document.createElement('p');
  private readonly pin = document.createElement('input');
  private readonly buttons = document.createElement('div');
  private step: Step = 'enter';
  private chosen = '';

  constructor(
    private readonly bridge: KioskApi | undefined,
    private readonly openSettings: () => void,
  ) {
    this.root.className = 'kiosk-staff';
    this.root.id = 'kiosk-staff';
    this.root.hidden = true;
    this.root.setAttribute('role', 'dialog');
    this.root.setAttribute('aria-modal', 'true');
    const card = document.createElement('form');
    card.className = 'kiosk-staff-card';
    this.title.className = 'kiosk-staff-title';
    this.title.textContent = KIOSK_TEXT.staffTitle;
    this.message.className = 'kiosk-staff-message';
    this.message.id = 'kiosk-staff-message';
    this.message.setAttribute('aria-live', 'assertive');
    this.pin.className = 'kiosk-staff-pin';
    this.pin.id = 'kiosk-staff-pin';
    this.pin.type = 'password';
    this.pin.inputMode = 'numeric';
    this.pin.autocomplete = 'off';
    this.pin.maxLength = 8;
    this.buttons.className = 'kiosk-staff-buttons';
    card.append(this.title, this.message, this.pin, this.buttons);
    card.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.submit();
    });
    this.root.append(card);
    this.root.addEventListener('keydown', (e) => e.key === 'Escape' && this.close());
    document.body.append(this.root);
  }

  get isOpen(): boolean {
    return !this.root.hidden;
  }

  async open(): Promise<void> {
    this.root.hidden = false;
    if (!this.bridge) return this.show('no-bridge', KIOSK_TEXT.noStaffBridge);
    const status = await this.bridge.status().catch(() => ({ kiosk: true, pinSet: true, pin: 'set' as const }));
    if (status.pinSet) return this.show('enter', KIOSK_TEXT.enterPin);
    // A kiosk without a PIN is locked (main refuses a PIN chosen here); outside kiosk mode one may be chosen.
    if (status.kiosk) return this.show('locked', NO_PIN_TEXT[status.pin === 'damaged' ? 'damaged' : 'unset'], 'error');
    this.show('choose', KIOSK_TEXT.choosePin);
  }

  close(): void {
    this.root.hidden = true;
    this.pin.value = '';
    if (this.step === 'menu') void this.bridge?.lock().catch(() => undefined);
  }

  private show(step: Step, text: string, tone: 'info' | 'error' = 'info'): void {
    this.step = step;
    this.message.textContent = text;
    this.message.dataset.tone = tone;
    this.pin.hidden = step === 'menu' || step === 'no-bridge' || step === 'locked';
    this.pin.value = '';
    const button = (label: string, id: string, kind: 'primary' | 'ghost', onClick?: () => void) => {
      const b = document.createElement('button');
      b.className = `button ${kind === 'primary' ? 'button-secondary' : 'button-ghost'}`;
      b.id = id;
      b.type = onClick ? 'button' : 'submit';
      b.textContent = label;
      if (onClick) b.addEventListener('click', onClick);
      return b;
    };
    const cancel = button(step === 'menu' ? KIOSK_TEXT.backToMirror : KIOSK_TEXT.cancel, 'kiosk-staff-cancel', 'ghost', () => this.close());
    if (step === 'menu') {
      this.buttons.replaceChildren(
        button(KIOSK_TEXT.changePin, 'kiosk-staff-change-pin', 'ghost', () => this.show('choose', KIOSK_TEXT.choosePin)),
        button(KIOSK_TEXT.openSettings, 'kiosk-staff-settings', 'ghost', () => {
          this.root.hidden = true; // the staff session stays open while Settings is
          this.openSettings();
        }),
        button(KIOSK_TEXT.exitKiosk, 'kiosk-staff-exit', 'primary', () => void this.bridge?.exit()),
        cancel,
      );
    } else if (step === 'no-bridge' || step === 'locked') {
      this.buttons.replaceChildren(cancel);
    } else {
      this.buttons.replaceChildren(cancel, button(KIOSK_TEXT.unlock, 'kiosk-staff-submit', 'primary'));
      this.pin.focus();
    }
  }

  private async submit(): Promise<void> {
    const bridge = this.bridge;
    const pin = this.pin.value;
    if (!bridge) return;
    switch (this.step) {
      case 'enter': {
        const result = await bridge.unlock(pin);
        if (result.ok) return this.show('menu', '');
        if (result.reason === 'no-pin') return this.open();
        if (result.reason === 'locked-out') return this.show('enter', KIOSK_TEXT.lockedOut(Math.ceil(result.retryAfterMs / 1000)), 'error');
        return this.show('enter', KIOSK_TEXT.wrongPin(result.attemptsLeft), 'error');
      }
      case 'choose':
        this.chosen = pin;
        return this.show('confirm', KIOSK_TEXT.confirmPin);
      case 'confirm': {
        if (pin !== this.chosen) return this.show('choose', KIOSK_TEXT.pinMismatch, 'error');
        const result = await bridge.setPin(pin);
        return result.ok ? this.show('menu', KIOSK_TEXT.pinSaved) : this.show('choose', result.problem, 'error');
      }
      default:
        return;
    }
  }
}
