/**
 * The kiosk's IPC contract (Electron): what the page may ask the main process while the app
 * runs as a kiosk. Kept apart from common/ipc-contract.ts; the preload exposes it as
 * `window.magicMirrorKiosk` (preload/kiosk-bridge.ts). Every call is checked in main: the
 * sender (the mirror page in a mirror window's main frame) and the payload (main/kiosk/ipc.ts).
 */

export const KIOSK_INVOKE = {
  /** Whether kiosk mode is on and a staff PIN is set. */
  status: 'kiosk:status',
  /** Checks the staff PIN (rate-limited); success unlocks the staff menu for UNLOCK_MS. */
  unlock: 'kiosk:unlock',
  /** Ends the staff session at once. */
  lock: 'kiosk:lock',
  /** Sets a new PIN: allowed while unlocked (and outside kiosk mode when none is usable; a kiosk without one stays locked). */
  setPin: 'kiosk:set-pin',
  /** Quits the app: allowed while unlocked. */
  exit: 'kiosk:exit',
} as const;

export type KioskChannel = (typeof KIOSK_INVOKE)[keyof typeof KIOSK_INVOKE];

/** A new staff PIN: this many digits (main/kiosk/pin.ts checks it; the Settings page as it is typed). */
export const PIN_RULES = { minDigits: 4, maxDigits: 8 } as const;

/** Why a new staff PIN is not acceptable: not 4–8 digits, or too easy (one digit repeated, a straight run like 1234 or 9876). */
export type PinIssue = 'digits' | 'easy';

export function pinIssue(pin: unknown): PinIssue | undefined {
  if (typeof pin !== 'string' || !new RegExp(`^\\d{${PIN_RULES.minDigits},${PIN_RULES.maxDigits}}$`).test(pin)) return 'digits';
  if (/^(\d)\1+$/.test(pin) || '0123456789'.includes(pin) || '9876543210'.includes(pin)) return 'easy';
  return undefined;
}

export interface KioskStatus {
  kiosk: boolean;
  pinSet: boolean;
  /**
   * The PIN file: 'unset' (none was set), 'damaged' (kiosk-pin.json unreadable). In kiosk mode
   * both lock the staff actions until the PIN is set from outside the kiosk.
   */
  pin: 'set' | 'unset' | 'damaged';
}

export type KioskUnlockResult =
  | { ok: true }
  | { ok: false; reason: 'wrong-pin'; attemptsLeft: number }
  | { ok: false; reason: 'locked-out'; retryAfterMs: number }
  | { ok: false; reason: 'no-pin' };

export type KioskSetPinResult = { ok: true } | { ok: false; problem: string };

export interface KioskContract {
  'kiosk:status': { request: undefined; response: KioskStatus };
  'kiosk:unlock': { request: { pin: string }; response: KioskUnlockResult };
  'kiosk:lock': { request: undefined; response: void };
  'kiosk:set-pin': { request: { pin: string }; response: KioskSetPinResult };
  'kiosk:exit': { request: undefined; response: { ok: boolean } };
}

/** window.magicMirrorKiosk: the page's side (also what tests inject in a browser). */
export interface KioskApi {
  status(): Promise<KioskStatus>;
  unlock(pin: string): Promise<KioskUnlockResult>;
  lock(): Promise<void>;
  setPin(pin: string): Promise<KioskSetPinResult>;
  exit(): Promise<{ ok: boolean }>;
}
