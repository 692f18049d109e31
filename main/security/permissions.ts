/**
 * Which permission requests and checks the app grants: the camera and microphone ('media'
 * with video/audio only — never screen capture), to the mirror page in the mirror window's
 * main frame. Everything else (notifications, geolocation, HID, clipboard, …) is refused.
 * The Electron glue feeds these plain facts from setPermissionRequestHandler and
 * setPermissionCheckHandler.
 */
import { isAppOrigin, isMirrorPage } from './app-protocol.js';

const MEDIA_TYPES = new Set(['video', 'audio']);

export interface PermissionRequestFacts {
  permission: string;
  /** The request comes from the mirror window's webContents. */
  fromMirrorWindow: boolean;
  isMainFrame: boolean;
  requestingUrl: string;
  /** For 'media': what getUserMedia asks for ('video' = camera, 'audio' = microphone). */
  mediaTypes?: readonly string[];
}

export function allowPermissionRequest(f: PermissionRequestFacts): boolean {
  return (
    f.permission === 'media' &&
    f.fromMirrorWindow &&
    f.isMainFrame &&
    isMirrorPage(f.requestingUrl) &&
    !!f.mediaTypes?.length &&
    f.mediaTypes.every((t) => MEDIA_TYPES.has(t))
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
}

/** Synchronous checks, e.g. whether enumerateDevices may show the cameras' names. */
export function allowPermissionCheck(f: PermissionCheckFacts): boolean {
  return (
    f.permission === 'media' &&
    f.fromMirrorWindow &&
    f.isMainFrame &&
    isAppOrigin(f.requestingOrigin) &&
    MEDIA_TYPES.has(f.mediaType ?? '')
  );
}
