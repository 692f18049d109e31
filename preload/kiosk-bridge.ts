/**
 * window.magicMirrorKiosk: typed wrappers over the kiosk channels (common/kiosk-contract.ts)
 * and nothing else. Kept apart from bridge.ts and index.ts so it can be tested without Electron.
 */
import { KIOSK_INVOKE, type KioskApi, type KioskContract, type KioskChannel } from '../common/kiosk-contract.js';
import type { IpcRendererLike } from './bridge.js';

export function createKioskApi(ipc: Pick<IpcRendererLike, 'invoke'>): KioskApi {
  const call = <C extends KioskChannel>(channel: C, ...request: KioskContract[C]['request'] extends undefined ? [] : [KioskContract[C]['request']]) =>
    ipc.invoke(channel, ...request) as Promise<KioskContract[C]['response']>;
  return {
    status: () => call(KIOSK_INVOKE.status),
    unlock: (pin) => call(KIOSK_INVOKE.unlock, { pin }),
    lock: () => call(KIOSK_INVOKE.lock),
    setPin: (pin) => call(KIOSK_INVOKE.setPin, { pin }),
    exit: () => call(KIOSK_INVOKE.exit),
  };
}
