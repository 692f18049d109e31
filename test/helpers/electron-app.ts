/**
 * Runs the built desktop app under Playwright's Electron driver, each launch with its own
 * user-data folder. Finds the Electron binary the way node_modules/electron/index.js does,
 * WITHOUT requiring that module: it starts a download when the binary is missing, and here
 * (ELECTRON_SKIP_BINARY_DOWNLOAD=1, no network) it is missing — tests then skip with the path.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { buildElectron } from '../../scripts/build-electron.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ELECTRON_DIR = path.join(ROOT, 'node_modules', 'electron');

/** Where the Electron executable is, whether or not it is installed. */
export function electronBinaryPath(): string {
  const pathTxt = path.join(ELECTRON_DIR, 'path.txt');
  const platformPath = existsSync(pathTxt)
    ? readFileSync(pathTxt, 'utf8')
    : ({ darwin: 'Electron.app/Contents/MacOS/Electron', win32: 'electron.exe' } as Record<string, string>)[process.platform] ?? 'electron';
  return process.env.ELECTRON_OVERRIDE_DIST_PATH
    ? path.join(process.env.ELECTRON_OVERRIDE_DIST_PATH, platformPath)
    : path.join(ELECTRON_DIR, 'dist', platformPath);
}

/** The page (Vite) and the Node side (esbuild) into dist/, as `npm start` would use them. */
export async function buildApp(): Promise<void> {
  await promisify(execFile)(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'renderer/vite.config.ts'], { cwd: ROOT });
  await buildElectron();
}

export interface LaunchedApp {
  app: ElectronApplication;
  page: Page;
  userData: string;
  close(): Promise<void>;
}

export interface LaunchAppOptions {
  /** settings.json to start with. */
  settingsText?: string;
  env?: Record<string, string>;
  /** Extra command-line arguments for the app, e.g. ['--kiosk']. */
  args?: string[];
}

export async function launchApp(opts: LaunchAppOptions = {}): Promise<LaunchedApp> {
  const userData = await mkdtemp(path.join(tmpdir(), 'mm-electron-'));
  if (opts.settingsText !== undefined) await writeFile(path.join(userData, 'settings.json'), opts.settingsText);
  const app = await _electron.launch({
    executablePath: electronBinaryPath(),
    args: [
      path.join(ROOT, 'dist', 'electron', 'main.js'),
      // Chromium refuses to start as root with its sandbox on (CI containers run as root).
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      ...(opts.args ?? []),
    ],
    env: {
      ...(process.env as Record<string, string>),
      MAGIC_MIRROR_USER_DATA: userData,
      MAGIC_MIRROR_NODE: process.execPath,
      ...opts.env,
    },
  });
  const page = await app.firstWindow();
  await page.waitForLoadState('domcontentloaded');
  return {
    app,
    page,
    userData,
    close: async () => {
      await app.close();
      await rm(userData, { recursive: true, force: true });
    },
  };
}
