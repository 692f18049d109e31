/** Binds the IPC router to ipcMain, and main → page events to webContents.send. */
import { ipcMain, webContents, type IpcMainInvokeEvent } from 'electron';
import type { EventChannel, EventPayload } from '../../common/ipc-contract.js';
import type { IpcRouter } from '../ipc/router.js';
import type { IpcSenderFacts } from '../security/ipc-sender.js';

function senderFacts(event: IpcMainInvokeEvent): IpcSenderFacts {
  const frame = event.senderFrame;
  return { webContentsId: event.sender.id, frame: frame && { url: frame.url, isMainFrame: frame.parent === null } };
}

export function bindIpc(router: IpcRouter): void {
  for (const channel of router.channels) {
    ipcMain.handle(channel, (event, ...args: unknown[]) => router.invoke(channel, senderFacts(event), args));
  }
}

/** Sends an event to one page's main frame; a page that is gone is skipped. */
export function sendToPage<C extends EventChannel>(webContentsId: number, channel: C, payload: EventPayload<C>): void {
  const contents = webContents.fromId(webContentsId);
  if (contents && !contents.isDestroyed()) contents.send(channel, payload);
}
