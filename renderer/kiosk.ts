/**
 * Kiosk mode in the page: on with `?kiosk=1` in the address (the desktop app loads its page
 * that way when the `kiosk` setting or `--kiosk` is on; a browser kiosk can use it in web
 * mode). Then the mirror is all there is (kiosk.css), it starts by itself, it recovers by
 * itself (common/recovery.ts decides; a "Reconnecting…" card shows meanwhile), the pointer
 * hides when still, and only staff can get out (kiosk-staff.ts).
 */
import type { KioskApi } from '../common/kiosk-contract.js';
import { RecoveryController } from '../common/recovery.js';
import { CursorHider } from './kiosk-cursor.js';
import { StaffDialog, cornerTaps, isStaffShortcut } from './kiosk-staff.js';
import { KioskRecoveryCard } from './kiosk-view.js';
import './kiosk.css';
import type { MirrorApp } from './mirror-app.js';

export function kioskRequested(search: string = location.search): boolean {
  return new URLSearchParams(search).get('kiosk') === '1';
}

/** The page's Settings dialog listens for this (renderer/settings/desktop.ts). */
export const OPEN_SETTINGS_EVENT = 'magic-mirror:open-settings';

export interface KioskHandle {
  recovery: RecoveryController;
  staff: StaffDialog;
}

/** Turns kiosk mode on for a MirrorApp that has not been init()ed yet; call app.init() after. */
export function enableKiosk(app: MirrorApp, bridge: KioskApi | undefined = window.magicMirrorKiosk): KioskHandle {
  document.documentElement.classList.add('kiosk');
  const card = new KioskRecoveryCard(document.querySelector<HTMLElement>('.mirror-frame') ?? document.body);
  const recovery = new RecoveryController(
    { restart: () => app.restart(), stateChanged: (state) => card.show(state) },
    {
      now: () => Date.now(),
      setTimeout: (fn, ms) => window.setTimeout(fn, ms),
      clearTimeout: (handle) => window.clearTimeout(handle as number),
    },
  );
  app.observe((event) => {
    switch (event.kind) {
      case 'live':
        return recovery.live();
      case 'stopped':
        return recovery.stopped(event.problem);
      case 'problem':
        return recovery.problem(event.problem);
      case 'ice':
        return recovery.iceState(event.state);
      case 'problem-cleared':
        return recovery.problemCleared(event.problem);
    }
  });
  navigator.mediaDevices?.addEventListener('devicechange', () => recovery.devicechange());

  new CursorHider();
  const staff = new StaffDialog(bridge, () => window.dispatchEvent(new CustomEvent(OPEN_SETTINGS_EVENT)));
  document.addEventListener('keydown', (e) => {
    if (!isStaffShortcut(e)) return;
    e.preventDefault();
    if (!staff.isOpen) void staff.open();
  });
  let taps: number[] = [];
  document.addEventListener('pointerdown', (e) => {
    const r = cornerTaps(taps, { x: e.clientX, y: e.clientY, t: e.timeStamp });
    taps = r.times;
    if (r.open && !staff.isOpen) void staff.open();
  });
  // No context menu, no text selection, no dragging the video out.
  document.addEventListener('contextmenu', (e) => e.preventDefault());
  document.addEventListener('dragstart', (e) => e.preventDefault());
  return { recovery, staff };
}

/** After app.init(): the mirror starts by itself. */
export function autoStart(app: MirrorApp): void {
  void app.start();
}
