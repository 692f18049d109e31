/**
 * One page's WebSocket on /magicmirror ↔ its own MirrorSession, speaking the tutorial's
 * protocol. The session belongs to the socket, not to a cookie (the tutorial's cookie keying
 * lets two tabs share — and leak — one session). A message that does not parse gets an
 * `error` reply and the socket stays open. When the socket closes, or stops answering pings
 * (a sleeping laptop never closes its socket), the session is stopped and released.
 */
import type { WebSocket } from 'ws';
import { parseClientMessage, type ServerMessage } from '../../common/mirror-protocol.js';
import type { MirrorSession } from '../mirror/session.js';
import { PROBLEM_TEXT } from '../problems.js';

/** Serves one socket; resolves once it has closed and its session is released. */
export function serveMirrorSocket(
  socket: WebSocket,
  makeSession: (send: (message: ServerMessage) => void) => MirrorSession,
  options: { pingIntervalMs: number; log?: (line: string) => void },
): Promise<void> {
  const session = makeSession((message) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
  });

  socket.on('message', (data, isBinary) => {
    const text = isBinary ? '' : data.toString();
    const message = parseClientMessage(text);
    if (message) void session.handle(message);
    else if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ id: 'error', message: PROBLEM_TEXT.invalidMessage(text) } satisfies ServerMessage));
  });
  socket.on('error', (err) => options.log?.(`page socket error: ${err.message}`));

  let answered = true;
  socket.on('pong', () => (answered = true));
  const heartbeat = setInterval(() => {
    if (!answered) return socket.terminate();
    answered = false;
    socket.ping();
  }, options.pingIntervalMs);
  heartbeat.unref();

  return new Promise((resolve) => {
    socket.once('close', () => {
      clearInterval(heartbeat);
      void session.close().then(resolve);
    });
  });
}
