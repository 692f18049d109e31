/**
 * The kiosk's staff side, without Electron: PIN checks (rate-limited), a short staff session
 * per page after a right PIN, and the actions only staff may take (exit, a new PIN). The
 * Electron glue (main/electron/kiosk.ts) binds it to IPC through main/kiosk/ipc.ts.
 */
import type { KioskSetPinResult, KioskStatus, KioskUnlockResult } from '../../common/kiosk-contract.js';
import { PinGuard, hashPin, pinProblem } from './pin.js';

/** How long a staff session lasts after a right PIN (time to change settings); "Back to the mirror" ends it at once. */
export const UNLOCK_MS = 10 * 60_000;

export interface KioskServiceOptions {
  kiosk: () => boolean;
  pin: { current(): string | undefined; save(hash: string): Promise<void> };
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
    this.#guard = new PinGuard(() => o.pin.current(), this.#now);
  }

  status(): KioskStatus {
    return { kiosk: this.o.kiosk(), pinSet: this.o.pin.current() !== undefined };
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

  /** Staff may always set a PIN; anyone may set the first one (a fresh kiosk has none). */
  async setPin(ownerId: number, pin: string): Promise<KioskSetPinResult> {
    const first = this.o.pin.current() === undefined;
    if (!first && !this.isUnlocked(ownerId)) return { ok: false, problem: 'Enter the current staff PIN first.' };
    const problem = pinProblem(pin);
    if (problem) return { ok: false, problem: `The PIN ${problem}.` };
    await this.o.pin.save(await (this.o.hash ?? hashPin)(pin));
    this.#unlocked.set(ownerId, this.#now() + UNLOCK_MS);
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
