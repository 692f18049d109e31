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
 */
import type { InvokeChannel } from '../../common/ipc-contract.js';
import type { InvokeHandlers } from '../ipc/router.js';

export const STAFF_ONLY_PROBLEM = { path: 'kiosk', message: 'In kiosk mode, settings are saved only after the staff PIN (Ctrl+Alt+K).' };
export const STAFF_ONLY_TEST = 'In kiosk mode, Test connection works only after the staff PIN (Ctrl+Alt+K).';
export const STAFF_ONLY_DISMISS = 'In kiosk mode, notices are dismissed only after the staff PIN (Ctrl+Alt+K).';

/** The channels that are staff actions in kiosk mode. */
export const STAFF_CHANNELS = ['settings:set', 'settings:test-connection', 'notices:dismiss'] as const satisfies readonly InvokeChannel[];
/** The public's channels (a test checks that every channel is in one of the two lists). */
export const PUBLIC_CHANNELS = ['mirror:connect', 'mirror:send', 'mirror:disconnect', 'settings:get', 'notices:list'] as const satisfies readonly InvokeChannel[];

export function guardStaffActions(handlers: InvokeHandlers, allowed: (webContentsId: number) => boolean): InvokeHandlers {
  const { 'settings:set': save, 'settings:test-connection': test, 'notices:dismiss': dismiss } = handlers;
  return {
    ...handlers,
    'settings:set': (owner, input) => (allowed(owner) ? save(owner, input) : { ok: false, problems: [STAFF_ONLY_PROBLEM] }),
    'settings:test-connection': (owner, input) => (allowed(owner) ? test(owner, input) : { ok: false, problem: 'internal', message: STAFF_ONLY_TEST }),
    'notices:dismiss': (owner, input) => {
      if (!allowed(owner)) throw new Error(STAFF_ONLY_DISMISS);
      return dismiss(owner, input);
    },
  };
}

/** The former name (it guarded settings:set alone). */
export const guardSettingsSave = guardStaffActions;
