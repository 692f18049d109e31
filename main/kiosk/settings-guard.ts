/**
 * In kiosk mode only staff act on the app (else anyone at the screen could switch kiosk mode
 * off through a notice's "open Settings", or use Test connection to make the kiosk knock at
 * any address). Of the app's IPC channels (main/ipc/handlers.ts) these are staff actions and
 * need a staff session (the PIN) while a kiosk:
 * - `settings:set`: answered like an invalid save, nothing stored;
 * - `settings:test-connection`: answered as a failed test, nothing connected to;
 * - `notices:dismiss`: refused (in kiosk mode notices are shown only in the staff's Settings).
 * The rest are the public's: `mirror:*` (the mirror itself), `settings:get` (the page reads its
 * camera choice at load) and `notices:list`. The kiosk channels (kiosk:*) have their own
 * checks in kiosk-service.ts: exit and set-pin need the staff session, status/unlock/lock do not.
 *
 * And in every mode: `settings:set` with `kiosk: true` needs a usable staff PIN, else the app
 * would become a kiosk nobody can leave (no PIN can be chosen at a kiosk's screen). Without
 * one, the save must bring `newStaffPin`: checked with the settings, it is set through the
 * staff service (kiosk:set-pin's rule: outside kiosk mode, only while no PIN is usable; scrypt,
 * kiosk-pin.json), then the settings are saved without it.
 */
import type { InvokeChannel } from '../../common/ipc-contract.js';
import type { KioskSetPinResult, KioskStatus } from '../../common/kiosk-contract.js';
import type { InvokeHandlers } from '../ipc/router.js';
import { SETTINGS_SCHEMA } from '../settings/schema.js';
import { pinProblem } from './pin.js';

export const STAFF_ONLY_PROBLEM = { path: 'kiosk', message: 'In kiosk mode, settings are saved only after the staff PIN (Ctrl+Alt+K).' };
export const STAFF_ONLY_TEST = 'In kiosk mode, Test connection works only after the staff PIN (Ctrl+Alt+K).';
export const STAFF_ONLY_DISMISS = 'In kiosk mode, notices are dismissed only after the staff PIN (Ctrl+Alt+K).';
/** settings:set with kiosk: true, no usable staff PIN and no newStaffPin. */
export const KIOSK_NEEDS_PIN = {
  path: 'kiosk',
  message: 'Kiosk mode needs a staff PIN (without one, nobody could leave the kiosk or change its settings): choose one to save with it.',
};
/** settings:set with newStaffPin while a PIN is usable (a PIN is changed by staff, in the staff dialog). */
export const PIN_ALREADY_SET = { path: 'newStaffPin', message: 'A staff PIN is already set: change it in kiosk mode, in the staff dialog (Ctrl+Alt+K).' };

/** The channels that are staff actions in kiosk mode. */
export const STAFF_CHANNELS = ['settings:set', 'settings:test-connection', 'notices:dismiss'] as const satisfies readonly InvokeChannel[];
/** The public's channels (a test checks that every channel is in one of the two lists). */
export const PUBLIC_CHANNELS = ['mirror:connect', 'mirror:send', 'mirror:disconnect', 'settings:get', 'notices:list'] as const satisfies readonly InvokeChannel[];

/** What the guard asks of the staff side: main/kiosk/kiosk-service.ts KioskService. */
export interface StaffGate {
  /** Whether this page may change settings: always outside kiosk mode, in it only in a staff session. */
  settingsAllowed(webContentsId: number): boolean;
  status(): KioskStatus;
  setPin(webContentsId: number, pin: string): Promise<KioskSetPinResult>;
  lock(webContentsId: number): void;
}

export function guardStaffActions(handlers: InvokeHandlers, gate: StaffGate): InvokeHandlers {
  const { 'settings:set': save, 'settings:test-connection': test, 'notices:dismiss': dismiss } = handlers;
  const allowed = (owner: number) => gate.settingsAllowed(owner);
  return {
    ...handlers,
    'settings:set': async (owner, input) => {
      if (!allowed(owner)) return { ok: false, problems: [STAFF_ONLY_PROBLEM] };
      const { newStaffPin, ...settings } = input;
      const pinUsable = gate.status().pinSet;
      if (newStaffPin === undefined) return settings.kiosk === true && !pinUsable ? { ok: false, problems: [KIOSK_NEEDS_PIN] } : save(owner, settings);
      if (pinUsable) return { ok: false, problems: [PIN_ALREADY_SET] };
      // Nothing changes on a refused save: the settings and the PIN are checked before the PIN is set.
      const checked = SETTINGS_SCHEMA.check(settings);
      const problems = checked.ok ? [] : [...checked.problems];
      const pin = pinProblem(newStaffPin);
      if (pin) problems.push({ path: 'newStaffPin', message: `The PIN ${pin}.` });
      if (problems.length) return { ok: false, problems };
      const set = await gate.setPin(owner, newStaffPin as string); // kiosk:set-pin's rule (refused in kiosk mode)
      if (!set.ok) return { ok: false, problems: [{ path: 'newStaffPin', message: set.problem }] };
      // Setting a PIN opens a staff session; a kiosk turned on here starts locked.
      gate.lock(owner);
      return save(owner, settings);
    },
    'settings:test-connection': (owner, input) => (allowed(owner) ? test(owner, input) : { ok: false, problem: 'internal', message: STAFF_ONLY_TEST }),
    'notices:dismiss': (owner, input) => {
      if (!allowed(owner)) throw new Error(STAFF_ONLY_DISMISS);
      return dismiss(owner, input);
    },
  };
}

/** The former name (it guarded settings:set alone). */
export const guardSettingsSave = guardStaffActions;
