/**
 * Wires the pure decisions of main/security/ into Electron: permissions for the session,
 * navigation and window.open guards for every webContents the app ever creates.
 */
import { app, shell, type Session } from 'electron';
import { allowNavigation, decideWindowOpen } from '../security/navigation.js';
import { allowPermissionCheck, allowPermissionRequest } from '../security/permissions.js';

export interface SecurityContext {
  /** Whether a webContents is a mirror window's. */
  isMirrorWindow(webContentsId: number): boolean;
  kiosk(): boolean;
}

export function guardSession(session: Session, ctx: SecurityContext): void {
  session.setPermissionRequestHandler((contents, permission, callback, details) => {
    callback(
      allowPermissionRequest({
        permission,
        fromMirrorWindow: ctx.isMirrorWindow(contents.id),
        isMainFrame: details.isMainFrame,
        requestingUrl: details.requestingUrl,
        mediaTypes: 'mediaTypes' in details ? details.mediaTypes : undefined,
        kiosk: ctx.kiosk(),
      }),
    );
  });
  session.setPermissionCheckHandler((contents, permission, requestingOrigin, details) =>
    allowPermissionCheck({
      permission,
      fromMirrorWindow: contents !== null && ctx.isMirrorWindow(contents.id),
      isMainFrame: details.isMainFrame,
      requestingOrigin,
      mediaType: details.mediaType,
      kiosk: ctx.kiosk(),
    }),
  );
  // USB, HID, serial, Bluetooth: never.
  session.setDevicePermissionHandler(() => false);
}

/** Every webContents (windows, and any other the app or Chromium creates) gets the guards. */
export function guardAllWebContents(ctx: SecurityContext): void {
  app.on('web-contents-created', (_event, contents) => {
    const guard = (event: { url: string; preventDefault(): void }) => {
      if (!allowNavigation(event.url)) {
        event.preventDefault();
        console.warn(`navigation to ${event.url.slice(0, 200)} refused`);
      }
    };
    contents.on('will-navigate', guard);
    contents.on('will-redirect', guard);
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      const decision = decideWindowOpen(url, { kiosk: ctx.kiosk() });
      if (decision.openExternally) shell.openExternal(decision.openExternally).catch((err: Error) => console.warn(`could not open ${url}: ${err.message}`));
      return { action: decision.action };
    });
  });
}
