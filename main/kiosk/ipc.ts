/**
 * The kiosk channels (common/kiosk-contract.ts) → KioskService, with the same gate as every
 * other IPC call: the sender must be the mirror page in a mirror window's main frame
 * (main/security/ipc-sender.ts), the payload must match its schema exactly.
 */
import { KIOSK_INVOKE, type KioskChannel, type KioskContract } from '../../common/kiosk-contract.js';
import { checkIpcSender, type IpcSenderFacts } from '../security/ipc-sender.js';
import { describeProblems, nothing, object, string, type Schema } from '../validation/schema.js';
import type { KioskService } from './kiosk-service.js';

const pin = object({ pin: string({ max: 64 }) });

export const KIOSK_SCHEMAS: { [C in KioskChannel]: Schema<KioskContract[C]['request']> } = {
  'kiosk:status': nothing(),
  'kiosk:unlock': pin,
  'kiosk:lock': nothing(),
  'kiosk:set-pin': pin,
  'kiosk:exit': nothing(),
};

export const KIOSK_CHANNELS = Object.values(KIOSK_INVOKE);

/** Handles one kiosk IPC call; rejects (with the reason) what the gate refuses. */
export async function invokeKiosk(
  service: KioskService,
  channel: string,
  sender: IpcSenderFacts,
  args: readonly unknown[],
  mirrorWindowIds: ReadonlySet<number>,
): Promise<unknown> {
  if (!Object.hasOwn(KIOSK_SCHEMAS, channel)) throw new Error(`${channel.slice(0, 100)}: no such channel`);
  const ch = channel as KioskChannel;
  const verdict = checkIpcSender(sender, mirrorWindowIds);
  if (!verdict.ok) throw new Error(`${ch}: ${verdict.reason}`);
  if (args.length > 1) throw new Error(`${ch}: takes at most one argument`);
  const checked = KIOSK_SCHEMAS[ch].check(args[0]);
  if (!checked.ok) throw new Error(`${ch}: ${describeProblems(checked.problems)}`);
  const owner = sender.webContentsId;
  switch (ch) {
    case 'kiosk:status':
      return service.status();
    case 'kiosk:unlock':
      return service.unlock(owner, (checked.value as { pin: string }).pin);
    case 'kiosk:lock':
      return service.lock(owner);
    case 'kiosk:set-pin':
      return service.setPin(owner, (checked.value as { pin: string }).pin);
    case 'kiosk:exit':
      return service.exit(owner);
  }
}
