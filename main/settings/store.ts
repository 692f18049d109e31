/**
 * The settings in the user-data folder (settings.json): read once at start, kept in memory,
 * written atomically on every save, one write at a time. Opening never throws: a file that
 * cannot be used is moved aside as settings.json.corrupt-<time> (the person's data is kept,
 * and the next start does not complain again), the defaults take its place, and a notice
 * says what happened.
 */
import { readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type { SettingsSaveResult } from '../../common/ipc-contract.js';
import type { Settings } from '../../common/settings.js';
import type { NoticeInput } from '../notices.js';
import { nodeIo, writeFileAtomic, type AtomicWriteIo } from './atomic-write.js';
import { SETTINGS_SCHEMA } from './schema.js';
import { decodeSettingsFile, encodeSettingsFile } from './settings-file.js';
import { defaultSettings } from './defaults.js';

export const SETTINGS_FILE_NAME = 'settings.json';

/** How the Settings page names each setting, for notices. */
const FIELD_LABELS: Record<keyof Settings, string> = {
  kmsUri: 'media server',
  hat: 'hat',
  overlay: 'hat placement',
  stun: 'STUN server',
  turn: 'TURN server',
  cameraDeviceId: 'camera',
  kiosk: 'kiosk mode',
};

export interface SettingsStoreOptions {
  now?: () => Date;
  io?: AtomicWriteIo;
}

/** 2026-11-24T23-56-50-606Z: an ISO time without the ':' Windows forbids in file names. */
function fileStamp(d: Date): string {
  return d.toISOString().replace(/[:.]/g, '-');
}

export class SettingsStore {
  private writes: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly file: string,
    private settings: Settings,
    private readonly io: AtomicWriteIo,
  ) {}

  /** Reads `<dir>/settings.json` (absent: defaults). The notices are for the person. */
  static async open(dir: string, opts: SettingsStoreOptions = {}): Promise<{ store: SettingsStore; notices: NoticeInput[] }> {
    const file = path.join(dir, SETTINGS_FILE_NAME);
    const io = opts.io ?? nodeIo;
    const now = opts.now ?? (() => new Date());
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const store = new SettingsStore(file, defaultSettings(), io);
      if (e.code === 'ENOENT') return { store, notices: [] };
      return { store, notices: [warning(`Your settings file ${file} could not be opened (${e.message}), so Magic Mirror is using its default settings.`)] };
    }

    const { settings, outcome } = decodeSettingsFile(text);
    const store = new SettingsStore(file, settings, io);
    if (outcome.kind === 'ok') return { store, notices: [] };

    // Keep the original, then write what is in use, so the next start reads a clean file.
    const backup = outcome.kind === 'migrated' ? `${file}.v${outcome.fromVersion}` : `${file}.corrupt-${fileStamp(now())}`;
    try {
      await rename(file, backup);
      await writeFileAtomic(file, encodeSettingsFile(settings), io);
    } catch (err) {
      return { store, notices: [warning(`Your settings file ${file} needs repair but could not be rewritten (${(err as Error).message}); it was left as it is.`)] };
    }

    const kept = `The old file was kept as ${path.basename(backup)}.`;
    if (outcome.kind === 'migrated') return { store, notices: [] };
    if (outcome.kind === 'unreadable') {
      return { store, notices: [warning(`Your settings could not be read: ${outcome.reason}. Magic Mirror is using its default settings. ${kept}`)] };
    }
    const parts: string[] = [];
    if (outcome.resetFields.length) {
      const labels = outcome.resetFields.map((f) => FIELD_LABELS[f as keyof Settings] ?? f);
      parts.push(`Some settings were invalid and are back to their defaults: ${labels.join(', ')}.`);
    }
    if (outcome.droppedFields.length) parts.push(`Unknown entries were ignored: ${outcome.droppedFields.join(', ')}.`);
    return { store, notices: [warning(`${parts.join(' ')} ${kept}`)] };
  }

  current(): Settings {
    return structuredClone(this.settings);
  }

  /**
   * Validates and saves settings from the page. Invalid ones come back as problems, nothing
   * saved; a failed write rejects and leaves both the file and the current settings as they were.
   */
  async save(input: unknown): Promise<SettingsSaveResult> {
    const checked = SETTINGS_SCHEMA.check(input);
    if (!checked.ok) return { ok: false, problems: checked.problems };
    const next = checked.value;
    const write = this.writes.then(() => writeFileAtomic(this.file, encodeSettingsFile(next), this.io));
    this.writes = write.catch(() => undefined);
    try {
      await write;
    } catch (err) {
      throw new Error(`Could not save the settings to ${this.file}: ${(err as Error).message}`);
    }
    this.settings = next;
    return { ok: true, settings: structuredClone(next) };
  }
}

function warning(text: string): NoticeInput {
  return { level: 'warning', text, opensSettings: false };
}
