/**
 * The mirror page's entry point. In the Electron app the preload exposes window.magicMirror,
 * whose mirror links are MirrorTransports over IPC; in a browser (web mode) the page talks to
 * its server over a WebSocket.
 */
import { MirrorApp } from './mirror-app.js';
import type { ConnectTransport } from './transport/transport.js';
import { connectWebSocket } from './transport/websocket.js';
import { MirrorView } from './view.js';

const bridge = window.magicMirror;
const connect: ConnectTransport = bridge ? () => bridge.mirror.connect() : () => connectWebSocket();

void new MirrorApp(new MirrorView(), connect).init();
