/**
 * Where the app keeps what it generates and remembers (e.g. web mode's TLS certificate):
 * $MAGIC_MIRROR_CONFIG_DIR, else the platform's per-user config directory + magic-mirror —
 * the same place Electron's app.getPath('userData') gives for this app on Linux.
 */
import os from 'node:os';
import path from 'node:path';

export const APP_DIR_NAME = 'magic-mirror';

export function defaultConfigDir(): string {
  const env = process.env;
  if (env.MAGIC_MIRROR_CONFIG_DIR) return env.MAGIC_MIRROR_CONFIG_DIR;
  if (process.platform === 'win32') return path.join(env.APPDATA ?? path.join(os.homedir(), 'AppData', 'Roaming'), APP_DIR_NAME);
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Application Support', APP_DIR_NAME);
  return path.join(env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'), APP_DIR_NAME);
}
