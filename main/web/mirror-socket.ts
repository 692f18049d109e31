/**
 * One page's WebSocket on /magicmirror ↔ its own MirrorSession, speaking the tutorial's
 * protocol. The session belongs to the socket, not to a cookie (the tutorial's cookie keying
 * lets two tabs share — and leak — one session). A message that does not parse gets an
 * `error` reply and the socket stays open. When the socket closes, or stops answering pings
 * (a sleeping laptop never closes its socket), the session is stopped and released.
 */
import type { WebSocket } from 'ws';
import { iceCandidateProblem, parseClientMessage, type ServerMessage } from '../../common/mirror-protocol.js';
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
    else if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ id: 'error', message: refusalOf(text) } satisfies ServerMessage));
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

/** Why a page message was refused, in a sentence (a bad ICE candidate says what is wrong with it and is not passed on). */
function refusalOf(text: string): string {
  const problem = candidateProblemOf(text);
  return problem ? `Refused an ICE candidate: ${problem}.` : PROBLEM_TEXT.invalidMessage(text);
}

function candidateProblemOf(text: string): string | undefined {
  try {
    const m = JSON.parse(text) as { id?: unknown; candidate?: unknown } | null;
    return m?.id === 'onIceCandidate' ? iceCandidateProblem(m.candidate) : undefined;
  } catch {
    return undefined;
  }
}
