/**
 * The settings a fresh install starts with. The media server and hat placement defaults are
 * the session core's (main/defaults.ts), so web mode and the app agree.
 */
import type { Settings } from '../../common/settings.js';
import { BUILTIN_KMS, HAT_PLACEMENT } from '../defaults.js';

/** A fresh copy each time, safe to change. */
export function defaultSettings(): Settings {
  return {
    kmsUri: BUILTIN_KMS,
    hat: { kind: 'builtin', id: 'top-hat' },
    overlay: { ...HAT_PLACEMENT },
    stun: null,
    turn: null,
    cameraDeviceId: '',
    kiosk: false,
  };
}
