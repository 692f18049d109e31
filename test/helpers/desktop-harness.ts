/**
 * The desktop app without Electron, for driving its page in headless Chromium: everything
 * behind window.magicMirror is the app's real main side, only the transport between them is
 * a test bridge.
 *
 *   page (dist/renderer, served by the app protocol's own rules and headers)
 *     window.magicMirror = preload/bridge.ts's createMagicMirrorApi and window.magicMirrorKiosk =
 *       preload/kiosk-bridge.ts's createKioskApi (bundled by esbuild, injected with
 *       addInitScript) over an ipcRenderer stand-in:
 *         invoke → page.exposeBinding → the IPC router (sender + payload checks) → handlers,
 *           kiosk:* → invokeKiosk → KioskService
 *         main → page events → page.evaluate → the bridge's listeners
 *   main side: createInvokeHandlers with a real SettingsStore (in `userData`), NoticeBoard,
 *   probeKms, MirrorLinks and the MirrorService on the built-in engine (an EngineHost the
 *   caller owns, launched with a plain Node as the app does), guarded as main.ts does
 *   (guardStaffActions over a KioskService on a real PinStore in `userData`).
 *
 * Like the app's window: a page's link is released when its main frame navigates (reload),
 * its renderer crashes, or it closes. The page is at http://127.0.0.1:<port>/; the IPC sender
 * check sees it as app://magic-mirror/ (the URL the app would show).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createReadStream } from 'node:fs';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import type { EventChannel, EventPayload } from '../../common/ipc-contract.js';
import { MirrorService } from '../../main/app/mirror-service.js';
import type { EngineHost } from '../../main/engine-host/engine-host.js';
import { createInvokeHandlers } from '../../main/ipc/handlers.js';
import { MirrorLinks } from '../../main/ipc/mirror-links.js';
import { createIpcRouter, type IpcRouter } from '../../main/ipc/router.js';
import { invokeKiosk } from '../../main/kiosk/ipc.js';
import { KioskService } from '../../main/kiosk/kiosk-service.js';
import { PinStore } from '../../main/kiosk/pin-store.js';
import { guardStaffActions } from '../../main/kiosk/settings-guard.js';
import { NoticeBoard } from '../../main/notices.js';
import { APP_ORIGIN, appResponseHeaders, resolveAppRequest } from '../../main/security/app-protocol.js';
import { SettingsStore } from '../../main/settings/store.js';
import { probeKms } from '../../main/settings/test-connection.js';
import { RENDERER_DIST, ROOT } from './build-renderer.js';
import type { ChromiumHandle } from './chromium.js';

let bridgeBundle: Promise<string> | undefined;

/** preload/bridge.ts and kiosk-bridge.ts as a classic script defining __mmBridge.createMagicMirrorApi and .createKioskApi. */
function bundleBridge(): Promise<string> {
  bridgeBundle ??= build({
    stdin: {
      contents: "export { createMagicMirrorApi } from './preload/bridge.ts'; export { createKioskApi } from './preload/kiosk-bridge.ts';",
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    format: 'iife',
    globalName: '__mmBridge',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    logLevel: 'warning',
  }).then((r) => r.outputFiles[0]!.text);
  return bridgeBundle;
}

/** What the preload does with contextBridge, done in the page: window.magicMirror over the stand-in. */
const PRELOAD = `
(() => {
  const listeners = new Map();
  // main → page: the harness calls this (page.evaluate) as webContents.send would deliver.
  Object.defineProperty(window, '__mmEmit', {
    value: (channel, payload) => [...(listeners.get(channel) || [])].forEach((l) => l({}, payload)),
  });
  const ipcRenderer = {
    invoke: (channel, ...args) => window.__mmInvoke(channel, args),
    on: (channel, listener) => {
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel).add(listener);
    },
    removeListener: (channel, listener) => listeners.get(channel)?.delete(listener),
  };
  const freeze = (o) => (Object.values(o).forEach((v) => v && typeof v === 'object' && freeze(v)), Object.freeze(o));
  Object.defineProperty(window, 'magicMirror', { value: freeze(__mmBridge.createMagicMirrorApi(ipcRenderer)), enumerable: true });
  Object.defineProperty(window, 'magicMirrorKiosk', { value: freeze(__mmBridge.createKioskApi(ipcRenderer)), enumerable: true });
})();`;

export interface DesktopHarnessOptions {
  /** The settings folder (settings.json is read from here, as at app start). */
  userData: string;
  engine: EngineHost;
  /** Whether the app runs as a kiosk (as --kiosk or the setting would make it); default: not. */
  kiosk?: () => boolean;
  log?: (line: string) => void;
}

export interface DesktopPage {
  page: Page;
  /** webContents id stand-in. */
  owner: number;
  /** console errors and page errors so far. */
  errors: string[];
  /** CSP violations reported in the page so far. */
  violations(): Promise<string[]>;
}

export interface DesktopHarness {
  /** The page's address (http://127.0.0.1:<port>/index.html). */
  url: string;
  store: SettingsStore;
  notices: NoticeBoard;
  service: MirrorService;
  links: MirrorLinks;
  router: IpcRouter;
  /** The staff side over `userData`/kiosk-pin.json (real scrypt cost). */
  staff: KioskService;
  pins: PinStore;
  /** Every IPC call the pages made: channel and request. */
  calls: { channel: string; args: unknown[] }[];
  /** A new page (own browser context) with window.magicMirror, at the mirror page. */
  open(chromium: ChromiumHandle, viewport?: { width: number; height: number }): Promise<DesktopPage>;
  close(): Promise<void>;
}

export async function startDesktopHarness(o: DesktopHarnessOptions): Promise<DesktopHarness> {
  const log = o.log ?? (() => {});
  const notices = new NoticeBoard();
  const opened = await SettingsStore.open(o.userData);
  const store = opened.store;
  opened.notices.forEach((n) => notices.add(n));

  const pages = new Map<number, Page>();
  const sendToPage = <C extends EventChannel>(owner: number, channel: C, payload: EventPayload<C>) => {
    const page = pages.get(owner);
    // Playwright serialises payloads like structured clone; a page that is gone is skipped, as Electron does.
    page?.evaluate(([c, p]) => (window as unknown as { __mmEmit(c: string, p: unknown): void }).__mmEmit(c, p), [channel, payload] as const).catch(() => undefined);
  };
  notices.onAdded((notice) => pages.forEach((_p, owner) => sendToPage(owner, 'notices:added', notice)));

  const service = new MirrorService({
    settings: () => store.current(),
    engineUri: () => o.engine.uri(),
    log,
    settingProblem: (text) => notices.add({ level: 'warning', text, opensSettings: true }),
  });
  const links = new MirrorLinks(service.open, sendToPage, log);
  const pins = await PinStore.open(o.userData, log);
  const staff = new KioskService({ kiosk: o.kiosk ?? (() => false), pin: pins, exit: () => log('kiosk: exit asked for'), log });
  const router = createIpcRouter({
    handlers: guardStaffActions(createInvokeHandlers({ links, settings: store, notices, engineUri: () => o.engine.uri(), probeKms, settingsSaved: () => {} }), staff),
    mirrorWindowIds: () => new Set(pages.keys()),
    log,
  });

  // The page's files, by the app protocol's rules (app://magic-mirror/<path> → dist/renderer/<path>) and headers (its CSP).
  const server = http.createServer((req, res) => {
    const target = resolveAppRequest(req.method ?? 'GET', `${APP_ORIGIN}${req.url ?? '/'}`, RENDERER_DIST);
    if (target.kind === 'refused') return void res.writeHead(target.status, { 'content-type': 'text/plain' }).end(`${target.reason}\n`);
    const headers = appResponseHeaders(target.contentType);
    const stream = createReadStream(target.file);
    stream.once('error', () => void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n'));
    stream.once('open', () => {
      res.writeHead(200, headers);
      if (req.method === 'HEAD') res.end();
      else stream.pipe(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const calls: DesktopHarness['calls'] = [];
  let nextOwner = 100;
  const contexts = new Set<{ close(): Promise<void> }>();

  return {
    url: `${origin}/index.html`,
    store,
    notices,
    service,
    links,
    router,
    staff,
    pins,
    calls,
    async open(chromium, viewport = { width: 1280, height: 800 }) {
      const page = await chromium.page();
      contexts.add(page.context());
      await page.setViewportSize(viewport);
      const owner = nextOwner++;
      pages.set(owner, page);
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      // As the app's window does (main/electron/window.ts): the page going away ends its link.
      page.on('framenavigated', (frame) => frame === page.mainFrame() && links.release(owner));
      page.on('crash', () => links.release(owner));
      page.on('close', () => {
        links.release(owner);
        pages.delete(owner);
      });
      await page.exposeBinding('__mmInvoke', async (source, channel: string, args: unknown[]) => {
        calls.push({ channel, args });
        const url = source.frame.url();
        const facts = {
          webContentsId: owner,
          // The page's http://127.0.0.1 address stands for app://magic-mirror/.
          frame: { url: url.startsWith(`${origin}/`) ? `${APP_ORIGIN}${url.slice(origin.length)}` : url, isMainFrame: source.frame === page.mainFrame() },
        };
        if (channel.startsWith('kiosk:')) return invokeKiosk(staff, channel, facts, args, new Set(pages.keys()));
        return router.invoke(channel, facts, args);
      });
      await page.addInitScript(`${await bundleBridge()}\n${PRELOAD}`);
      await page.addInitScript(`
        window.__cspViolations = [];
        document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));`);
      await page.goto(`${origin}/index.html`);
      return { page, owner, errors, violations: () => page.evaluate('window.__cspViolations') as Promise<string[]> };
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      links.releaseAll();
      await service.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

