/**
 * Every IPC call goes through invoke(): the sender is checked (the mirror page in a mirror
 * window's main frame), then the payload against its channel's schema, and only then does the
 * channel's handler run. A refusal rejects the call with the reason (the page sees it as the
 * error of its invoke()) and is logged; nothing a page sends can throw in the main process
 * outside that promise.
 */
import type { InvokeChannel, InvokeResponse } from '../../common/ipc-contract.js';
import { checkIpcSender, type IpcSenderFacts } from '../security/ipc-sender.js';
import { describeProblems } from '../validation/schema.js';
import { REQUEST_SCHEMAS, type HandlerInput } from './payloads.js';

export type InvokeHandlers = {
  [C in InvokeChannel]: (ownerId: number, input: HandlerInput<C>) => InvokeResponse<C> | Promise<InvokeResponse<C>>;
};

export class IpcRefusal extends Error {
  override readonly name = 'IpcRefusal';
}

export interface IpcRouterOptions {
  handlers: InvokeHandlers;
  /** The webContents ids of the open mirror windows. */
  mirrorWindowIds: () => ReadonlySet<number>;
  log?: (message: string) => void;
}

export interface IpcRouter {
  readonly channels: readonly InvokeChannel[];
  invoke(channel: string, sender: IpcSenderFacts, args: readonly unknown[]): Promise<unknown>;
}

export function createIpcRouter({ handlers, mirrorWindowIds, log = console.warn }: IpcRouterOptions): IpcRouter {
  const refusal = (channel: string, reason: string) => {
    log(`IPC ${channel} refused: ${reason}`);
    return new IpcRefusal(`${channel}: ${reason}`);
  };
  return {
    channels: Object.keys(REQUEST_SCHEMAS) as InvokeChannel[],
    async invoke(channel, sender, args) {
      if (!Object.hasOwn(REQUEST_SCHEMAS, channel)) throw refusal(channel.slice(0, 100), 'no such channel');
      const ch = channel as InvokeChannel;
      const verdict = checkIpcSender(sender, mirrorWindowIds());
      if (!verdict.ok) throw refusal(ch, verdict.reason);
      if (args.length > 1) throw refusal(ch, 'takes at most one argument');
      const checked = REQUEST_SCHEMAS[ch].check(args[0]);
      if (!checked.ok) throw refusal(ch, describeProblems(checked.problems));
      // The schema of `ch` checked the input for the handler of `ch`.
      const handler = handlers[ch] as (ownerId: number, input: unknown) => unknown;
      return handler(sender.webContentsId, checked.value);
    },
  };
}
