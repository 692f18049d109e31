/**
 * The camera list: a <select> of the video inputs, remembering the choice in localStorage.
 * Browsers hide device names (and often ids) until the camera has been allowed once, so the
 * list is refreshed after each getUserMedia and whenever devices come and go.
 */
import { TEXT } from './messages.js';

const STORAGE_KEY = 'magic-mirror.camera';

export class CameraPicker {
  /** Whether the browser has shown the cameras' ids (it hides them until one is allowed). */
  private listed = false;

  constructor(private readonly select: HTMLSelectElement, onChange: () => void) {
    select.addEventListener('change', () => {
      localStorage.setItem(STORAGE_KEY, select.value);
      onChange();
    });
    navigator.mediaDevices?.addEventListener('devicechange', () => void this.refresh());
  }

  /**
   * The camera to open: the one chosen in the list; before the browser lists any, a remembered
   * one as a preference (it may be gone); undefined for the system default.
   */
  get deviceId(): ConstrainDOMString | undefined {
    if (this.select.value) return { exact: this.select.value };
    const saved = localStorage.getItem(STORAGE_KEY);
    return saved && !this.listed ? { ideal: saved } : undefined;
  }

  /** Makes `deviceId` the remembered choice ('' for the system default), as the desktop app's settings say. */
  async prefer(deviceId: string): Promise<void> {
    if (deviceId) localStorage.setItem(STORAGE_KEY, deviceId);
    else localStorage.removeItem(STORAGE_KEY);
    await this.refresh();
  }

  async refresh(): Promise<void> {
    const devices = (await navigator.mediaDevices?.enumerateDevices()) ?? [];
    const cameras = devices.filter((d) => d.kind === 'videoinput' && d.deviceId);
    this.listed = cameras.length > 0;
    const options = [new Option(TEXT.cameraDefault, '')];
    cameras.forEach((camera, i) => options.push(new Option(camera.label || TEXT.cameraUnnamed(i + 1), camera.deviceId)));
    this.select.replaceChildren(...options);
    // A remembered camera that is unplugged now keeps its place in storage for when it is back.
    const saved = localStorage.getItem(STORAGE_KEY) ?? '';
    this.select.value = cameras.some((c) => c.deviceId === saved) ? saved : '';
  }
}
