/**
 * Where the staff PIN's hash is kept: `<userData>/kiosk-pin.json`, beside settings.json but
 * not in it — settings.json goes to the page whole (settings:get), and the hash must not
 * (see pin.ts). Written atomically, owner-only (0600). A missing, unreadable or damaged file
 * means "no PIN set" (and is reported in the log, not to the page).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../settings/atomic-write.js';
import { isPinHash } from './pin.js';

export const PIN_FILE_NAME = 'kiosk-pin.json';

export class PinStore {
  private constructor(
    readonly file: string,
    private hash: string | undefined,
  ) {}

  static async open(dir: string, log: (line: string) => void = () => {}): Promise<PinStore> {
    const file = path.join(dir, PIN_FILE_NAME);
    let hash: string | undefined;
    try {
      const data = JSON.parse(await readFile(file, 'utf8')) as { version?: unknown; pin?: unknown };
      if (data.version === 1 && typeof data.pin === 'string' && isPinHash(data.pin)) hash = data.pin;
      else log(`${file} holds no valid PIN: the kiosk has no staff PIN`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log(`${file} could not be read (${(err as Error).message}): the kiosk has no staff PIN`);
    }
    return new PinStore(file, hash);
  }

  current(): string | undefined {
    return this.hash;
  }

  async save(hash: string): Promise<void> {
    await writeFileAtomic(this.file, `${JSON.stringify({ version: 1, pin: hash }, null, 2)}\n`);
    this.hash = hash;
  }
}
