/**
 * Replaces a file so that a reader (or the next start after a crash or power cut) sees the old
 * content or the new one, never half of each: write a temporary file beside it, flush it to
 * disk, then rename it over the target (atomic on one file system, on POSIX and Windows).
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

export interface AtomicWriteIo {
  /** Creates `file` (it must not exist), writes `text` and flushes it to the disk. */
  writeNewFile(file: string, text: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  remove(file: string): Promise<void>;
}

export const nodeIo: AtomicWriteIo = {
  async writeNewFile(file, text) {
    const handle = await open(file, 'wx', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  rename,
  remove: (file) => rm(file, { force: true }),
};

export async function writeFileAtomic(file: string, text: string, io: AtomicWriteIo = nodeIo): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await io.writeNewFile(temp, text);
    await io.rename(temp, file);
  } catch (err) {
    await io.remove(temp).catch(() => undefined);
    throw err;
  }
}
