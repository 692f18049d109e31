/**
 * Who may call the IPC API: only the mirror page, in the main frame of a mirror window.
 * Refused: other webContents (another window, DevTools, a future webview), subframes, a frame
 * that has navigated away or is gone, and any document not at app://magic-mirror/index.html.
 */
import { isMirrorPage } from './app-protocol.js';

export interface IpcSenderFacts {
  /** event.sender.id */
  webContentsId: number;
  /** event.senderFrame: null once the frame has navigated away or been destroyed. */
  frame: { url: string; isMainFrame: boolean } | null;
}

export type SenderVerdict = { ok: true } | { ok: false; reason: string };

export function checkIpcSender(sender: IpcSenderFacts, mirrorWindowIds: ReadonlySet<number>): SenderVerdict {
  if (!mirrorWindowIds.has(sender.webContentsId)) return { ok: false, reason: `webContents ${sender.webContentsId} is not a mirror window` };
  if (!sender.frame) return { ok: false, reason: 'the sending frame is gone' };
  if (!sender.frame.isMainFrame) return { ok: false, reason: 'sent from a subframe' };
  if (!isMirrorPage(sender.frame.url)) return { ok: false, reason: `sent from ${JSON.stringify(sender.frame.url.slice(0, 200))}, not the mirror page` };
  return { ok: true };
}
