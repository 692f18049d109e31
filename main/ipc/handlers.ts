/**
 * What each IPC channel does, given the app's services. Inputs arrive validated (router.ts);
 * the owner is the calling page's webContents id.
 */
import type { ConnectionTestResult } from '../../common/ipc-contract.js';
import type { Settings } from '../../common/settings.js';
import { splitKmsUris } from '../../common/kms-uri.js';
import { BUILTIN_KMS } from '../defaults.js';
import type { NoticeBoard } from '../notices.js';
import { PROBLEM_TEXT } from '../problems.js';
import { defaultSettings } from '../settings/defaults.js';
import type { SettingsStore } from '../settings/store.js';
import type { MirrorLinks } from './mirror-links.js';
import type { InvokeHandlers } from './router.js';

export interface IpcServices {
  links: MirrorLinks;
  settings: SettingsStore;
  notices: NoticeBoard;
  /** The built-in engine's ws:// URI, starting it if needed; rejects with why it cannot start. */
  engineUri(): Promise<string>;
  /** Connects to a media server and says whether it is a usable Kurento (the session core's check). */
  probeKms(uri: string, timeoutMs: number): Promise<ConnectionTestResult>;
  /** Called after settings were saved, to apply what applies at once (kiosk mode). */
  settingsSaved(settings: Settings): void;
}

/** One media server's "Test connection" (`builtin`: the hosted engine, started if needed). */
async function testOne(s: IpcServices, kmsUri: string, timeoutMs: number): Promise<ConnectionTestResult> {
  let uri = kmsUri;
  if (kmsUri === BUILTIN_KMS) {
    try {
      uri = await s.engineUri();
    } catch (err) {
      return { ok: false, problem: 'engine-failed', message: PROBLEM_TEXT.engineFailed((err as Error).message) };
    }
  }
  return s.probeKms(uri, timeoutMs);
}

export function createInvokeHandlers(s: IpcServices): InvokeHandlers {
  return {
    'mirror:connect': (owner) => s.links.connect(owner),
    'mirror:send': (owner, { linkId, message }) => s.links.send(owner, { linkId }, message),
    'mirror:disconnect': (owner, ref) => s.links.disconnect(owner, ref),
    'settings:get': () => ({ settings: s.settings.current(), defaults: defaultSettings() }),
    'settings:set': async (_owner, input) => {
      const result = await s.settings.save(input);
      if (result.ok) s.settingsSaved(result.settings);
      return result;
    },
    'settings:test-connection': async (_owner, { kmsUri, timeoutMs }) => {
      const uris = splitKmsUris(kmsUri);
      if (uris.length <= 1) return testOne(s, uris[0] ?? kmsUri, timeoutMs);
      // A list: each server on its own, at once; usable if any answers.
      const results = await Promise.all(uris.map((uri) => testOne(s, uri, timeoutMs)));
      const servers = results.map((r, i) => ({ uri: uris[i]!, ok: r.ok, message: r.message }));
      const good = results.filter((r): r is Extract<ConnectionTestResult, { ok: true }> => r.ok);
      const message = `${PROBLEM_TEXT.poolAnswers(good.length, uris.length)} ${servers.map((r) => r.message).join(' ')}`;
      if (good.length) return { ok: true, version: good[0]!.version, message, servers };
      return { ok: false, problem: results[0]!.ok ? 'internal' : results[0]!.problem, message, servers };
    },
    'notices:list': () => s.notices.list(),
    'notices:dismiss': (_owner, { id }) => void s.notices.dismiss(id),
  };
}
