/**
 * Which permission requests and checks the app grants: only the devices the mirror uses
 * ('media' — never screen capture), to the mirror page in the mirror window's main frame.
 * Everything else (notifications, geolocation, HID, clipboard, …) is refused.
 * The Electron glue feeds these plain facts from setPermissionRequestHandler and
 * setPermissionCheckHandler.
 *
 * The devices (mediaTypesFor): the camera always. The microphone only outside kiosk mode:
 * the page asks for it (renderer/camera.ts: its audio goes through the media server and back,
 * heard with the mirror's unmute button), but a kiosk shows no such button and plays the
 * mirror muted, so a microphone there would only send the room's sound to the media server.
 * Refused, the page asks again for the camera alone (renderer/camera.ts).
 */
import { isAppOrigin, isMirrorPage } from './app-protocol.js';

const MIRROR_MEDIA = new Set(['video', 'audio']);
const KIOSK_MEDIA = new Set(['video']);

/** The media types ('video' = camera, 'audio' = microphone) the mirror uses. */
export function mediaTypesFor(kiosk: boolean): ReadonlySet<string> {
  return kiosk ? KIOSK_MEDIA : MIRROR_MEDIA;
}

export interface PermissionRequestFacts {
  permission: string;
  /** The request comes from the mirror window's webContents. */
  fromMirrorWindow: boolean;
  isMainFrame: boolean;
  requestingUrl: string;
  /** For 'media': what getUserMedia asks for ('video' = camera, 'audio' = microphone). */
  mediaTypes?: readonly string[];
  /** The app runs as a kiosk now (no microphone then). */
  kiosk: boolean;
}

export function allowPermissionRequest(f: PermissionRequestFacts): boolean {
  return (
    f.permission === 'media' &&
    f.fromMirrorWindow &&
    f.isMainFrame &&
    isMirrorPage(f.requestingUrl) &&
    !!f.mediaTypes?.length &&
    f.mediaTypes.every((t) => mediaTypesFor(f.kiosk).has(t))
  );
}

export interface PermissionCheckFacts {
  permission: string;
  /** False also when the check is not made for a webContents (e.g. a service worker). */
  fromMirrorWindow: boolean;
  isMainFrame: boolean;
  requestingOrigin: string;
  /** For 'media': 'video', 'audio' or 'unknown'. */
  mediaType?: string;
  /** The app runs as a kiosk now (no microphone then). */
  kiosk: boolean;
}

/** Synchronous checks, e.g. whether enumerateDevices may show the cameras' names. */
export function allowPermissionCheck(f: PermissionCheckFacts): boolean {
  return (
    f.permission === 'media' &&
    f.fromMirrorWindow &&
    f.isMainFrame &&
    isAppOrigin(f.requestingOrigin) &&
    mediaTypesFor(f.kiosk).has(f.mediaType ?? '')
  );
}
