/**
 * Opening the camera, and turning getUserMedia's failures into problems a person can act on.
 * The page opens the camera itself (rather than letting kurento-utils do it) so it can pick the
 * device and tell a denied camera from a busy or missing one.
 */
import type { LocalProblem } from './messages.js';

export class CameraError extends Error {
  constructor(readonly problem: LocalProblem, options?: ErrorOptions) {
    super(`camera: ${problem}`, options);
  }
}

/** The camera problem behind a getUserMedia rejection (names per the Media Capture spec). */
export function cameraProblemOf(error: unknown): LocalProblem {
  switch (error instanceof DOMException || error instanceof Error ? error.name : '') {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'camera-denied';
    case 'NotReadableError':
      return 'camera-busy';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'no-camera';
    default:
      return 'camera-failed';
  }
}

/**
 * The camera (as chosen by CameraPicker.deviceId; the system default if undefined) plus the
 * microphone, 640 px wide at 30 fps. (The Kurento tutorial asks for `framerate: 15`, a
 * misspelt constraint that browsers ignore, so it runs at the camera's own rate too: 15 fps
 * would show a mirror that stutters and reaches each step of a Start up to 67 ms later.)
 * Without a usable microphone the mirror still works, silently.
 */
export async function openCamera(deviceId: ConstrainDOMString | undefined): Promise<MediaStream> {
  // Absent outside a secure context (https:// or localhost).
  if (!navigator.mediaDevices?.getUserMedia) throw new CameraError('insecure-context');
  const video: MediaTrackConstraints = {
    width: { ideal: 640 },
    frameRate: { ideal: 30 },
    ...(deviceId ? { deviceId } : {}),
  };
  try {
    return await navigator.mediaDevices.getUserMedia({ video, audio: true });
  } catch {
    // Maybe only the microphone is missing, busy or blocked: ask again for the camera alone,
    // whose own error (if any) is the one worth showing.
    try {
      return await navigator.mediaDevices.getUserMedia({ video });
    } catch (error) {
      throw new CameraError(cameraProblemOf(error), { cause: error });
    }
  }
}
