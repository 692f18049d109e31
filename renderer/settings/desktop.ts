/**
 * What the page adds in the desktop app (window.magicMirror present; web mode has no
 * settings): a Settings button in the top bar, the Settings dialog, and the app's notices.
 * The dialog opens from the button, from a notice whose fix is a setting (not in kiosk mode),
 * from kiosk mode's staff dialog (OPEN_SETTINGS_EVENT) and for the address #settings.
 */
import type { MagicMirrorApi } from '../../common/ipc-contract.js';
import type { Settings } from '../../common/settings.js';
import { OPEN_SETTINGS_EVENT } from '../kiosk.js';
import { SETTINGS_TEXT as T } from '../messages.js';
import { h, icon, ICONS } from './dom.js';
import { NoticeCenter } from './notice-center.js';
import { SettingsDialog } from './settings-dialog.js';
import './settings.css';

export interface DesktopSettings {
  dialog: SettingsDialog;
  notices: NoticeCenter;
}

export function installDesktopSettings(api: MagicMirrorApi, saved: (settings: Settings) => void): DesktopSettings {
  let dialog!: SettingsDialog;
  const open = () => void dialog.open();
  // In kiosk mode (renderer/kiosk.ts) only staff open Settings (its staff dialog sends
  // OPEN_SETTINGS_EVENT), and notices are not shown to the public.
  const kiosk = () => document.documentElement.classList.contains('kiosk');
  const notices = new NoticeCenter(api.notices, () => kiosk() || open());
  // The staff PIN's state (kiosk:status) tells the dialog whether turning kiosk mode on needs a new PIN.
  dialog = new SettingsDialog({ api: api.settings, kiosk: window.magicMirrorKiosk, saved, notices: notices.dialogList });

  const button = h('button', { type: 'button', id: 'settings-open', class: 'icon-button topbar-settings', title: T.open, attrs: { 'aria-label': T.open, 'aria-haspopup': 'dialog' } }, icon(ICONS.gear));
  button.addEventListener('click', open);
  document.querySelector('.topbar')?.append(button);
  document.documentElement.classList.add('has-settings');

  window.addEventListener(OPEN_SETTINGS_EVENT, open);
  const openForHash = () => location.hash === '#settings' && open();
  window.addEventListener('hashchange', openForHash);
  openForHash();
  notices.start().catch((err: Error) => console.warn(`listing the app's notices failed: ${err.message}`));
  return { dialog, notices };
}
