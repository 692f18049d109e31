/**
 * In kiosk mode only staff may change settings (else anyone at the screen could switch kiosk
 * mode off through a notice's "open Settings"): a `settings:set` from a page without a staff
 * session is answered like an invalid save, nothing stored.
 */
import type { InvokeHandlers } from '../ipc/router.js';

export const STAFF_ONLY_PROBLEM = { path: 'kiosk', message: 'In kiosk mode, settings are saved only after the staff PIN (Ctrl+Alt+K).' };

export function guardSettingsSave(handlers: InvokeHandlers, allowed: (webContentsId: number) => boolean): InvokeHandlers {
  const save = handlers['settings:set'];
  return {
    ...handlers,
    'settings:set': (owner, input) => (allowed(owner) ? save(owner, input) : { ok: false, problems: [STAFF_ONLY_PROBLEM] }),
  };
}
