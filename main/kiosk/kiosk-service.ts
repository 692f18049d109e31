/**
 * The kiosk's staff side, without Electron: PIN checks (rate-limited, the counts kept across
 * restarts), a short staff session per page after a right PIN, and the actions only staff may
 * take (exit, a new PIN, and through settingsAllowed: settings, Test connection, notices).
 * The Electron glue (main/electron/kiosk.ts) binds it to IPC through main/kiosk/ipc.ts.
 *
 * In kiosk mode, no usable PIN (never set, or kiosk-pin.json missing or damaged) locks every
 * staff action: whoever stands at the screen must not be the one who chooses the PIN. The
 * first PIN is set from outside the kiosk (pin-store.ts, docs/security.md "Kiosk"), or in
 * Settings with kiosk mode turned on, which needs one (settings-guard.ts calls setPin).
 */
import type { KioskSetPinResult, KioskStatus, KioskUnlockResult } from '../../common/kiosk-contract.js';
import { PinGuard, hashPin, pinProblem, type LockoutStore } from './pin.js';
import type { PinState } from './pin-store.js';

/** Why the staff actions are locked on a kiosk without a usable PIN (shown by the staff dialog). */
export const NO_PIN_PROBLEM = {
  unset: 'No staff PIN is set on this kiosk, so staff actions are locked. Set one from outside the kiosk (see docs/security.md "Kiosk").',
  damaged: 'The staff PIN file is damaged, so staff actions are locked. Reset it from outside the kiosk (see docs/security.md "Kiosk").',
} as const;

/** How long a staff session lasts after a right PIN (time to change settings); "Back to the mirror" ends it at once. */
export const UNLOCK_MS = 10 * 60_000;

export interface KioskServiceOptions {
  kiosk: () => boolean;
  pin: {
    current(): string | undefined;
    save(hash: string): Promise<void>;
    /** 'damaged' when the PIN file is unusable (PinStore); without it: 'set' or 'unset' from current(). */
    state?(): PinState;
    /** Where the rate limit's counts are kept across restarts (PinStore.lockouts). */
    lockouts?: LockoutStore;
  };
  /** Quit the app (staff asked for it). */
  exit: () => void;
  now?: () => number;
  /** For tests: a cheaper scrypt cost. */
  hash?: (pin: string) => Promise<string>;
  log?: (line: string) => void;
}

export class KioskService {
  readonly #guard: PinGuard;
  /** webContents id → end of its staff session. */
  readonly #unlocked = new Map<number, number>();
  readonly #now: () => number;

  constructor(private readonly o: KioskServiceOptions) {
    this.#now = o.now ?? Date.now;
    this.#guard = new PinGuard(() => o.pin.current(), this.#now, o.pin.lockouts);
  }

  #pinState(): PinState {
    if (this.o.pin.current() !== undefined) return 'set';
    return this.o.pin.state?.() === 'damaged' ? 'damaged' : 'unset';
  }

  status(): KioskStatus {
    const pin = this.#pinState();
    return { kiosk: this.o.kiosk(), pinSet: pin === 'set', pin };
  }

  async unlock(ownerId: number, pin: string): Promise<KioskUnlockResult> {
    const result = await this.#guard.check(pin);
    if (result.ok) this.#unlocked.set(ownerId, this.#now() + UNLOCK_MS);
    else if (result.reason !== 'no-pin') this.o.log?.(`kiosk: staff PIN refused (${result.reason})`);
    return result;
  }

  lock(ownerId: number): void {
    this.#unlocked.delete(ownerId);
  }

  isUnlocked(ownerId: number): boolean {
    const until = this.#unlocked.get(ownerId);
    if (until === undefined) return false;
    if (this.#now() < until) return true;
    this.#unlocked.delete(ownerId);
    return false;
  }

  /**
   * Staff may always set a PIN. Without a staff session: only outside kiosk mode, when no PIN
   * is usable. In kiosk mode a kiosk without one stays locked (set it from outside: pin-store.ts).
   */
  async setPin(ownerId: number, pin: string): Promise<KioskSetPinResult> {
    const state = this.#pinState();
    const first = state !== 'set';
    if (!this.isUnlocked(ownerId)) {
      if (!first) return { ok: false, problem: 'Enter the current staff PIN first.' };
      if (this.o.kiosk()) {
        this.o.log?.(`kiosk: setting a staff PIN from the kiosk refused (the PIN file is ${state === 'damaged' ? 'damaged' : 'missing'})`);
        return { ok: false, problem: NO_PIN_PROBLEM[state] };
      }
    }
    const problem = pinProblem(pin);
    if (problem) return { ok: false, problem: `The PIN ${problem}.` };
    await this.o.pin.save(await (this.o.hash ?? hashPin)(pin));
    // A staff session only in kiosk mode: one opened outside would carry over, unasked, into the
    // kiosk the person turns on next.
    if (this.o.kiosk()) this.#unlocked.set(ownerId, this.#now() + UNLOCK_MS);
    this.o.log?.(`kiosk: staff PIN ${first ? 'set' : 'changed'}`);
    return { ok: true };
  }

  /** Whether this page may change settings: always outside kiosk mode, in it only in a staff session. */
  settingsAllowed(ownerId: number): boolean {
    return !this.o.kiosk() || this.isUnlocked(ownerId);
  }

  /** Quits, if this page is in a staff session (or the app is not a kiosk at all). */
  exit(ownerId: number): { ok: boolean } {
    if (this.o.kiosk() && !this.isUnlocked(ownerId)) return { ok: false };
    this.o.log?.('kiosk: exit by staff');
    this.o.exit();
    return { ok: true };
  }
}
