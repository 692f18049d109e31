/**
 * Which Node.js runs the built-in engine, and which script. Not Electron's own Node: the
 * engine's WebRTC stack (@roamhq/wrtc, a native addon with its own libwebrtc) is not supported
 * inside Electron by its maintainers, and the packaged app turns Electron's RunAsNode fuse off.
 * So the app ships a plain Node runtime (docs/electron.md has the why and the packaging).
 *
 * - MAGIC_MIRROR_NODE: an explicit Node executable (tests, development) — not when packaged
 *   (dev-overrides.ts: a packaged app runs only the Node it ships).
 * - packaged: <resources>/node/node(.exe), put there by electron-builder's extraResources.
 * - development: the Node that runs npm (npm_node_execpath), else `node` from PATH.
 * The script is the bundled engine, dist/engine/cli.js (beside dist/electron/); in a packaged
 * app it lies in app.asar.unpacked, since a plain Node cannot read inside an asar archive.
 */
import path from 'node:path';
import { devOverrides } from './dev-overrides.js';

export interface EngineCommand {
  nodePath: string;
  /** Arguments before the engine's own options: the script (and any Node flags). */
  args: string[];
}

export interface EngineCommandContext {
  packaged: boolean;
  /** process.resourcesPath */
  resourcesPath: string;
  /** The folder of the bundled main.js (dist/electron/, inside app.asar when packaged). */
  appDir: string;
  platform: NodeJS.Platform;
  env: Readonly<Record<string, string | undefined>>;
}

export function engineCommand(ctx: EngineCommandContext): EngineCommand {
  const p = ctx.platform === 'win32' ? path.win32 : path.posix;
  const nodePath =
    devOverrides(ctx.env, ctx.packaged).nodePath ??
    (ctx.packaged ? p.join(ctx.resourcesPath, 'node', ctx.platform === 'win32' ? 'node.exe' : 'node') : ctx.env.npm_node_execpath || 'node');
  const unpackedDir = ctx.appDir.replace(/app\.asar(?=[\\/]|$)/, 'app.asar.unpacked');
  return { nodePath, args: [p.join(unpackedDir, '..', 'engine', 'cli.js')] };
}
