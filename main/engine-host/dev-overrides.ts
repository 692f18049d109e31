/**
 * The development environment's overrides of the desktop app, honoured only when the app is
 * not packaged (Electron's app.isPackaged, passed in as a plain boolean so this is testable):
 *
 * - MAGIC_MIRROR_NODE: the Node.js executable that runs the built-in engine (engine-command.ts);
 * - MAGIC_MIRROR_USER_DATA: the folder of settings.json and kiosk-pin.json (main/electron/main.ts).
 *
 * In a packaged app they would let whoever sets the environment (a shortcut, a login script,
 * another program starting the app) run any executable as the engine, or point the app at a
 * settings folder of their own — with its own kiosk-pin.json — so the app ignores them there.
 * (MAGIC_MIRROR_CONFIG_DIR, main/config-dir.ts, is web mode's and not read by the app.)
 */

export const DEV_OVERRIDE_VARS = ['MAGIC_MIRROR_NODE', 'MAGIC_MIRROR_USER_DATA'] as const;

export interface DevOverrides {
  nodePath?: string;
  userData?: string;
}

export function devOverrides(env: Readonly<Record<string, string | undefined>>, packaged: boolean): DevOverrides {
  if (packaged) return {};
  const out: DevOverrides = {};
  if (env.MAGIC_MIRROR_NODE) out.nodePath = env.MAGIC_MIRROR_NODE;
  if (env.MAGIC_MIRROR_USER_DATA) out.userData = env.MAGIC_MIRROR_USER_DATA;
  return out;
}

/** Which overrides are set but ignored (for one log line in a packaged app). */
export function ignoredDevOverrides(env: Readonly<Record<string, string | undefined>>, packaged: boolean): string[] {
  return packaged ? DEV_OVERRIDE_VARS.filter((name) => !!env[name]) : [];
}
