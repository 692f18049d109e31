/**
 * The mirror page's entry point. In the Electron app the preload exposes window.magicMirror,
 * whose mirror links are MirrorTransports over IPC; in a browser (web mode) the page talks to
 * its server over a WebSocket.
 */
import { autoStart, enableKiosk, kioskRequested } from './kiosk.js';
import { MirrorApp } from './mirror-app.js';
import { installDesktopSettings } from './settings/desktop.js';
import { ipcTransport } from './transport/ipc.js';
import type { ConnectTransport } from './transport/transport.js';
import { connectWebSocket } from './transport/websocket.js';
import { MirrorView } from './view.js';

const bridge = window.magicMirror;
const connect: ConnectTransport = bridge ? ipcTransport(bridge) : () => connectWebSocket();

const app = new MirrorApp(new MirrorView(), connect);
if (bridge) {
  // The desktop app: Settings and notices. A save applies to a new link, with the saved camera.
  installDesktopSettings(bridge, (saved) => void app.useCamera(saved.cameraDeviceId).then(() => app.reconnect()));
  bridge.settings.get().then(
    ({ settings }) => void (settings.cameraDeviceId && app.useCamera(settings.cameraDeviceId)),
    () => undefined,
  );
}
const kiosk = kioskRequested();
if (kiosk) enableKiosk(app);
void app.init().then(() => kiosk && autoStart(app));
