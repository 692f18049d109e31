/**
 * Where the staff PIN's hash is kept: `<userData>/kiosk-pin.json`, beside settings.json but
 * not in it — settings.json goes to the page whole (settings:get), and the hash must not
 * (see pin.ts). Written atomically, owner-only (0600), with the rate limit's counts, so a
 * lockout survives a restart (pulling the plug gives no fresh tries).
 *
 * The file's states (`state()`):
 * - 'unset': no file — a PIN was never set here. In kiosk mode that locks the staff actions
 *   like a damaged file does (anyone at the screen could otherwise choose the PIN); the first
 *   PIN is set from outside the kiosk (below, or from a page outside kiosk mode).
 * - 'damaged': present but unreadable, not JSON, or not what this module writes → staff actions
 *   locked until it is reset from outside the kiosk. Reported in the log, not to the page.
 * - 'set': `{ "version": 1, "pin": "scrypt$…" }`, with `"failures"`, `"lockouts"` and
 *   `"lockedUntil"` (epoch ms) once there are wrong PINs to count.
 *
 * Set or reset from outside the kiosk (docs/security.md "Kiosk"): with the app closed, write
 * `{ "version": 1, "newPin": "<4–8 digits>" }` to the file; the next start hashes it and
 * rewrites the file in the form above (the digits are not kept), lockouts cleared.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../settings/atomic-write.js';
import { NO_LOCKOUT, hashPin, isLockoutState, isPinHash, pinProblem, type LockoutState, type LockoutStore } from './pin.js';

export const PIN_FILE_NAME = 'kiosk-pin.json';

export type PinState = 'set' | 'unset' | 'damaged';

export interface PinStoreOptions {
  log?: (line: string) => void;
  /** For tests: a cheaper scrypt cost for a `newPin` in the file. */
  hash?: (pin: string) => Promise<string>;
}

type Loaded = { state: 'set'; hash: string; lockout: LockoutState } | { state: 'unset' } | { state: 'damaged'; why: string };

async function load(file: string, o: PinStoreOptions): Promise<{ loaded: Loaded; rewrite?: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return { loaded: { state: 'unset' } };
    return { loaded: { state: 'damaged', why: `it could not be read (${e.message})` } };
  }
  let data: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    data = parsed as Record<string, unknown>;
  } catch {
    return { loaded: { state: 'damaged', why: 'it is not a JSON object' } };
  }
  if (data.version !== 1) return { loaded: { state: 'damaged', why: 'its "version" is not 1' } };
  if (data.newPin !== undefined) {
    // Set from outside the kiosk: hash it, and keep only the hash.
    const problem = pinProblem(data.newPin);
    if (problem) return { loaded: { state: 'damaged', why: `its "newPin" ${problem}` } };
    const hash = await (o.hash ?? hashPin)(data.newPin as string);
    return { loaded: { state: 'set', hash, lockout: { ...NO_LOCKOUT } }, rewrite: 'set from its "newPin"' };
  }
  if (typeof data.pin !== 'string' || !isPinHash(data.pin)) return { loaded: { state: 'damaged', why: 'it holds no valid PIN' } };
  const counts = { failures: data.failures ?? 0, lockouts: data.lockouts ?? 0, lockedUntil: data.lockedUntil ?? 0 };
  if (!isLockoutState(counts)) return { loaded: { state: 'damaged', why: 'its lockout counts are not valid' } };
  return { loaded: { state: 'set', hash: data.pin, lockout: counts } };
}

export class PinStore {
  #writes: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly file: string,
    private loaded: Loaded,
    private readonly log: (line: string) => void,
  ) {}

  static async open(dir: string, opts: PinStoreOptions | ((line: string) => void) = {}): Promise<PinStore> {
    const o: PinStoreOptions = typeof opts === 'function' ? { log: opts } : opts;
    const log = o.log ?? (() => {});
    const file = path.join(dir, PIN_FILE_NAME);
    const { loaded, rewrite } = await load(file, o);
    const store = new PinStore(file, loaded, log);
    if (loaded.state === 'damaged') log(`${file} is damaged (${loaded.why}): staff actions are locked in kiosk mode until the PIN is reset from outside the kiosk`);
    if (rewrite && loaded.state === 'set') {
      try {
        await store.#write();
        log(`${file}: staff PIN ${rewrite}`);
      } catch (err) {
        // The digits stay in the file; the PIN works for this run.
        log(`${file}: staff PIN ${rewrite}, but the file could not be rewritten (${(err as Error).message})`);
      }
    }
    return store;
  }

  state(): PinState {
    return this.loaded.state;
  }

  current(): string | undefined {
    return this.loaded.state === 'set' ? this.loaded.hash : undefined;
  }

  /** A new PIN (its hash): the rate limit's counts start over. */
  async save(hash: string): Promise<void> {
    const before = this.loaded;
    this.loaded = { state: 'set', hash, lockout: { ...NO_LOCKOUT } };
    try {
      await this.#write();
    } catch (err) {
      this.loaded = before;
      throw err;
    }
  }

  /** The rate limit's counts, kept in the same file (PinGuard's LockoutStore). */
  readonly lockouts: LockoutStore = {
    load: () => (this.loaded.state === 'set' ? { ...this.loaded.lockout } : { ...NO_LOCKOUT }),
    save: async (state) => {
      if (this.loaded.state !== 'set') return;
      this.loaded = { ...this.loaded, lockout: { ...state } };
      await this.#write().catch((err: Error) => this.log(`${this.file}: the lockout counts could not be saved (${err.message})`));
    },
  };

  /** One write at a time, of what is in memory when its turn comes. */
  #write(): Promise<void> {
    const turn = this.#writes.then(() => {
      const l = this.loaded;
      if (l.state !== 'set') return;
      // The counts only when there are any (a file with none reads as before they were kept).
      const counts = l.lockout.failures || l.lockout.lockouts || l.lockout.lockedUntil ? l.lockout : {};
      return writeFileAtomic(this.file, `${JSON.stringify({ version: 1, pin: l.hash, ...counts }, null, 2)}\n`);
    });
    this.#writes = turn.catch(() => undefined);
    return turn;
  }
}
