/**
 * The mirror window's webPreferences, each set explicitly (even where it is Electron's
 * default) so a reader and a test see the whole security posture in one place.
 */

export interface MirrorWindowOptions {
  /** Absolute path of the bundled preload (CommonJS: a sandboxed preload cannot be ESM). */
  preload: string;
  /** DevTools in development builds only. */
  devTools: boolean;
}

export function mirrorWebPreferences(opts: MirrorWindowOptions) {
  return {
    preload: opts.preload,
    // The page's JS cannot reach the preload's world, Node, or Electron internals.
    contextIsolation: true,
    // The renderer runs in Chromium's OS sandbox; the preload gets only the sandboxed subset.
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    // enableBlinkFeatures is left unset: no extra Blink features.
    webviewTag: false,
    plugins: false,
    // A file dropped on the window must not replace the page.
    navigateOnDragDrop: false,
    spellcheck: false,
    // alert()/confirm() loops cannot lock a kiosk.
    safeDialogs: true,
    // A mirror in a background window (or behind a kiosk overlay) keeps running.
    backgroundThrottling: false,
    devTools: opts.devTools,
  } as const;
}
