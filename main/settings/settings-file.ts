/**
 * settings.json: its format, versions and migrations, and how a damaged file is read.
 *
 * The file is `{ "version": 1, ...Settings }`. Reading never fails:
 * - not JSON, not an object, a version this build does not know (newer), or a migration that
 *   throws → all defaults ("unreadable");
 * - a field that is present but invalid, or a key that is not a setting → that field gets
 *   its default, the valid ones are kept ("repaired"): a typo in the hat path should not also
 *   throw away the media server address;
 * - a missing field → its default, silently (a hand-written file may name only what it changes).
 * The store keeps the original of an unreadable or repaired file as a backup and tells the person.
 */
import { BUILTIN_HATS, EACH_FACE, type Settings } from '../../common/settings.js';
import { isPlainObject } from '../validation/schema.js';
import { defaultSettings } from './defaults.js';
import { SETTING_SCHEMAS } from './schema.js';

export const SETTINGS_VERSION = 1;

type RawSettings = Record<string, unknown>;

/**
 * Version 0 is a file without "version": written by hand (e.g. by a kiosk installer), with
 * the forms people copy from the Kurento tutorials — numbers as strings ("-0.35F", Java's
 * float suffix: KMS silently ignores a placement sent as a string) and the hat as a plain
 * string (a built-in hat's id, or a PNG's path or URL).
 */
function fromV0(raw: RawSettings): RawSettings {
  const out = { ...raw };
  if (isPlainObject(raw.overlay)) {
    out.overlay = Object.fromEntries(
      Object.entries(raw.overlay).map(([k, v]) => [k, typeof v === 'string' && /^\s*[-+]?(\d+\.?\d*|\.\d+)[fFdD]?\s*$/.test(v) ? parseFloat(v) : v]),
    );
  }
  if (typeof raw.hat === 'string') {
    out.hat = (BUILTIN_HATS as readonly string[]).includes(raw.hat)
      ? { kind: 'builtin', id: raw.hat }
      : raw.hat === EACH_FACE ? { kind: 'each-face' } : { kind: 'image', uri: raw.hat };
  }
  return out;
}

/** MIGRATIONS[n] turns a version-n file into version n + 1. */
const MIGRATIONS: readonly ((raw: RawSettings) => RawSettings)[] = [fromV0];

export type SettingsFileOutcome =
  /** A valid current file. */
  | { kind: 'ok' }
  /** A valid file of an older version, now in the current format. */
  | { kind: 'migrated'; fromVersion: number }
  /** Some fields were invalid (reset to their defaults) or unknown (dropped). */
  | { kind: 'repaired'; fromVersion: number; resetFields: string[]; droppedFields: string[] }
  /** Nothing usable: all defaults. */
  | { kind: 'unreadable'; reason: string };

export function decodeSettingsFile(text: string): { settings: Settings; outcome: SettingsFileOutcome } {
  const unreadable = (reason: string) => ({ settings: defaultSettings(), outcome: { kind: 'unreadable', reason } as const });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return unreadable(`it is not valid JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(raw)) return unreadable('it does not hold a settings object');

  const { version = 0, ...fields } = raw;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) return unreadable('its "version" is not a version number');
  if (version > SETTINGS_VERSION) return unreadable(`it was written by a newer Magic Mirror (settings version ${version})`);

  let migrated: RawSettings = fields;
  try {
    for (let v = version; v < SETTINGS_VERSION; v++) migrated = MIGRATIONS[v]!(migrated);
  } catch (err) {
    return unreadable(`it could not be upgraded from settings version ${version} (${(err as Error).message})`);
  }

  const settings = defaultSettings();
  const resetFields: string[] = [];
  for (const key of Object.keys(SETTING_SCHEMAS) as (keyof Settings)[]) {
    if (migrated[key] === undefined) continue;
    const checked = SETTING_SCHEMAS[key].check(migrated[key], key);
    if (checked.ok) (settings as unknown as RawSettings)[key] = checked.value;
    else resetFields.push(key);
  }
  const droppedFields = Object.keys(migrated).filter((k) => !Object.hasOwn(SETTING_SCHEMAS, k));

  if (resetFields.length || droppedFields.length) return { settings, outcome: { kind: 'repaired', fromVersion: version, resetFields, droppedFields } };
  if (version < SETTINGS_VERSION) return { settings, outcome: { kind: 'migrated', fromVersion: version } };
  return { settings, outcome: { kind: 'ok' } };
}

export function encodeSettingsFile(settings: Settings): string {
  return `${JSON.stringify({ version: SETTINGS_VERSION, ...settings }, null, 2)}\n`;
}
