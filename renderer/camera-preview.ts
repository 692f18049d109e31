/**
 * The camera opened with the page, before Start, when the person has allowed it already (the
 * Permissions API says 'granted', so nothing is asked that Start would not ask). The person sees
 * themselves at once, and Start skips opening the camera — on a freshly launched browser that is
 * the slowest step of the first Start (measured 0.15–0.5 s in headless Chromium). Start takes
 * the stream; Stop releases the camera as before and the preview does not come back until the
 * page is opened again, so a stopped mirror still means the camera is off.
 */
import { openCamera } from './camera.js';

interface Opening {
  readonly stream: Promise<MediaStream | undefined>;
  /** Start took it (the stream is the session's now) or the preview was closed. */
  over: boolean;
}

/** Whether the browser would open the camera without asking (false where it cannot tell). */
export async function cameraAllowed(): Promise<boolean> {
  try {
    return (await navigator.permissions.query({ name: 'camera' as PermissionName })).state === 'granted';
  } catch {
    return false;
  }
}

export class CameraPreview {
  #opening: Opening | undefined;
  /** Bumped by take and close: an open still asking for permission then gives up (Start came first). */
  #epoch = 0;

  /** `shown` hears whether the preview is on screen (the "Camera off" card hides meanwhile). */
  constructor(
    private readonly video: HTMLVideoElement,
    private readonly shown: (on: boolean) => void,
  ) {}

  /**
   * Opens the camera into the preview if the person allowed it already. A camera that fails to
   * open is left for Start, which opens it again and shows the problem with its cure.
   */
  async open(deviceId: ConstrainDOMString | undefined): Promise<void> {
    const epoch = this.#epoch;
    if (this.#opening || !(await cameraAllowed()) || this.#opening || epoch !== this.#epoch) return;
    const opening: Opening = { stream: openCamera(deviceId).catch(() => undefined), over: false };
    this.#opening = opening;
    const stream = await opening.stream;
    if (!stream || opening.over) return;
    this.video.srcObject = stream;
    this.shown(true);
    // Unplugged while previewing: the preview ends, and Start will open what is there then.
    stream.getVideoTracks()[0]?.addEventListener('ended', () => this.#opening === opening && this.close());
  }

  /**
   * The preview's camera for a Start, if it was opened for this device and is still live: the
   * caller owns it from now on. Otherwise undefined (and whatever was open is closed).
   */
  async take(deviceId: ConstrainDOMString | undefined): Promise<MediaStream | undefined> {
    this.#epoch++;
    const opening = this.#opening;
    if (!opening) return undefined;
    this.#opening = undefined;
    opening.over = true;
    this.shown(false);
    const stream = await opening.stream;
    const track = stream?.getVideoTracks()[0];
    if (track?.readyState === 'live' && isDevice(track, deviceId)) return stream;
    this.#release(stream);
    return undefined;
  }

  /** Turns the preview's camera off. */
  close(): void {
    this.#epoch++;
    const opening = this.#opening;
    if (!opening) return;
    this.#opening = undefined;
    opening.over = true;
    this.shown(false);
    void opening.stream.then((stream) => this.#release(stream));
  }

  #release(stream: MediaStream | undefined): void {
    stream?.getTracks().forEach((t) => t.stop());
    if (stream && this.video.srcObject === stream) this.video.srcObject = null;
  }
}

/** Whether `track` comes from the camera CameraPicker.deviceId names (any camera for the default). */
function isDevice(track: MediaStreamTrack, deviceId: ConstrainDOMString | undefined): boolean {
  const wanted = typeof deviceId === 'object' && !Array.isArray(deviceId) ? (deviceId.exact ?? deviceId.ideal) : deviceId;
  return wanted === undefined || track.getSettings().deviceId === (Array.isArray(wanted) ? wanted[0] : wanted);
}
