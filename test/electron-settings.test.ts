/**
 * Settings in the user-data folder: schema, round trip, atomic writes, and every way the file
 * can be wrong (corrupt, invalid fields, unknown keys, newer version, unreadable) — defaults
 * plus a backup plus a notice, never a crash — and the migration from version 0.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Settings } from '../common/settings.js';
import { HAT_PLACEMENT } from '../main/defaults.js';
import { nodeIo, writeFileAtomic } from '../main/settings/atomic-write.js';
import { defaultSettings } from '../main/settings/defaults.js';
import { SETTINGS_SCHEMA } from '../main/settings/schema.js';
import { decodeSettingsFile, encodeSettingsFile, SETTINGS_VERSION } from '../main/settings/settings-file.js';
import { SETTINGS_FILE_NAME, SettingsStore } from '../main/settings/store.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function userData(settingsText?: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mm-settings-'));
  dirs.push(dir);
  if (settingsText !== undefined) await writeFile(path.join(dir, SETTINGS_FILE_NAME), settingsText);
  return dir;
}

const NOW = new Date('2026-11-24T23:56:50.606Z');
const BACKUP = `${SETTINGS_FILE_NAME}.corrupt-2026-11-24T23-56-50-606Z`;
const open = (dir: string) => SettingsStore.open(dir, { now: () => NOW });
const readJson = async (dir: string, name = SETTINGS_FILE_NAME) => JSON.parse(await readFile(path.join(dir, name), 'utf8')) as Record<string, unknown>;

const custom: Settings = {
  kmsUri: 'wss://kms.example.org:8433/kurento',
  hat: { kind: 'image', uri: '/home/me/hats/wizard.png' },
  overlay: { offsetXPercent: -0.2, offsetYPercent: -1, widthPercent: 1.4, heightPercent: 1.2 },
  stun: { host: '192.0.2.10', port: 3478 },
  turn: { host: 'turn.example.org', port: 3478, username: 'mirror', password: 's3cret!', transport: 'tcp' },
  cameraDeviceId: 'a1b2c3',
  kiosk: true,
};

describe('settings schema', () => {
  const problemsOf = (patch: Record<string, unknown>) => {
    const r = SETTINGS_SCHEMA.check({ ...defaultSettings(), ...patch });
    return r.ok ? [] : r.problems.map((p) => p.path);
  };

  test('defaults and a full custom set are valid; defaults come from the session core', () => {
    assert.ok(SETTINGS_SCHEMA.check(defaultSettings()).ok);
    assert.ok(SETTINGS_SCHEMA.check(custom).ok);
    assert.deepEqual(defaultSettings().overlay, HAT_PLACEMENT);
    assert.equal(defaultSettings().kmsUri, 'builtin');
  });

  test('media server: builtin or ws:// / wss:// only', () => {
    for (const kmsUri of ['builtin', 'ws://localhost:8888/kurento', 'wss://[::1]:8433/kurento']) assert.deepEqual(problemsOf({ kmsUri }), [], kmsUri);
    for (const kmsUri of ['', 'Builtin', 'http://localhost:8888/kurento', 'localhost:8888', 'ws://', 'ws://host/ kurento', 42]) {
      assert.deepEqual(problemsOf({ kmsUri }), ['kmsUri'], String(kmsUri));
    }
  });

  test('media server: forms the URL parser would rewrite into another address are refused with their reason (issue 23)', () => {
    const reasonOf = (kmsUri: string) => {
      const r = SETTINGS_SCHEMA.check({ ...defaultSettings(), kmsUri });
      assert.equal(r.ok, false, `${JSON.stringify(kmsUri)} refused`);
      return r.ok ? '' : r.problems.map((p) => `${p.path}: ${p.message}`).join('; ');
    };
    const cases: [string, RegExp][] = [
      ['ws:///kurento', /^kmsUri: "ws:\/\/\/kurento" has no host after "\/\/" \(the URL parser would read it as ws:\/\/kurento\/\)$/],
      ['ws:\\\\host/kurento', /must not contain a backslash/],
      ['ws://kms\\kurento', /must not contain a backslash/],
      ['ws://k\tms/kurento', /tabs, line breaks/],
      ['ws://kms/kur\nento', /tabs, line breaks/],
      ['ws://kms:8888/kurento\r', /tabs, line breaks/],
      ['ws:kms/kurento', /must have \/\/ and then the host .*ws:\/\/kms\/kurento/],
      ['ws:/kms/kurento', /must have \/\/ and then the host/],
      ['ws://', /has no host/],
      ['ws://:8888/kurento', /has no host/],
      ['ws://?x', /has no host/],
      ['ws://user:pw@kms:8888/kurento', /must not contain a user name or password/],
      ['ws://@kms/kurento', /must not contain a user name or password/],
      ['ws://0x7f.1:8888/kurento', /would reach the host "127\.0\.0\.1:8888"/],
      ['ws://2130706433/kurento', /would reach the host "127\.0\.0\.1"/],
      ['ws://k%6Ds/kurento', /would reach the host "kms"/],
      ['ws://\uff4b\uff4d\uff53/kurento', /would reach the host "kms"/],
      ['ws://kms:08888/kurento', /would reach the host "kms:8888"/],
      ['ws://kms/kurento#x', /#fragment/],
      ['builtin, ws:///kurento', /"ws:\/\/\/kurento" has no host/],
    ];
    for (const [kmsUri, reason] of cases) assert.match(reasonOf(kmsUri), reason, JSON.stringify(kmsUri));
    // The general wording where no rewrite is involved.
    assert.match(reasonOf('http://kms/'), /must be "builtin" or a ws:\/\/ or wss:\/\/ address/);
  });

  test('media server: stored as the URL parser serialises it; a list and builtin keep working (issue 23)', async () => {
    const stored = (kmsUri: string) => {
      const r = SETTINGS_SCHEMA.check({ ...defaultSettings(), kmsUri });
      assert.ok(r.ok, kmsUri);
      return r.value.kmsUri;
    };
    assert.equal(stored('builtin'), 'builtin');
    assert.equal(stored('ws://localhost:8888/kurento'), 'ws://localhost:8888/kurento');
    assert.equal(stored('WS://KMS.Example.org:80'), 'ws://kms.example.org/');
    assert.equal(stored('wss://kms:443/kurento'), 'wss://kms/kurento');
    assert.equal(stored('ws://[::1]:8888/kurento'), 'ws://[::1]:8888/kurento');
    assert.equal(stored(' builtin ,ws://KMS-1:8888/kurento,  wss://kms-2/kurento '), 'builtin, ws://kms-1:8888/kurento, wss://kms-2/kurento');
    // What the store writes (and gives back) is the normalised form.
    const dir = await userData();
    const { store } = await open(dir);
    const saved = await store.save({ ...defaultSettings(), kmsUri: 'WS://KMS:8888' });
    assert.ok(saved.ok);
    assert.equal(saved.settings.kmsUri, 'ws://kms:8888/');
    assert.equal((await readJson(dir)).kmsUri, 'ws://kms:8888/');
    // A hand-written file with a rewriting form: that field falls back to its default.
    const bad = await userData(JSON.stringify({ version: 1, kmsUri: 'ws:///kurento' }));
    assert.equal((await open(bad)).store.current().kmsUri, 'builtin');
  });

  test('hat: a built-in id, each face its own, or a PNG path or URL', () => {
    const ok = [
      { kind: 'builtin', id: 'crown' },
      { kind: 'builtin', id: 'glasses' },
      { kind: 'each-face' },
      { kind: 'image', uri: '/srv/hats/a.PNG' },
      { kind: 'image', uri: 'C:\\Users\\me\\hat.png' },
      { kind: 'image', uri: '\\\\nas\\hats\\hat.png' },
      { kind: 'image', uri: 'file:///srv/hats/a.png' },
      { kind: 'image', uri: 'https://example.org/hat' },
    ];
    for (const hat of ok) assert.deepEqual(problemsOf({ hat }), [], JSON.stringify(hat));
    const bad = [
      'top-hat',
      { kind: 'builtin', id: 'sombrero' },
      { kind: 'image', uri: 'hat.png' },
      { kind: 'image', uri: '/srv/hats/a.jpg' },
      { kind: 'image', uri: 'ftp://example.org/hat.png' },
      { kind: 'image', uri: 'javascript:alert(1)' },
      { kind: 'image', uri: '/srv/a.png\n' },
      { kind: 'emoji', id: 'crown' },
      { kind: 'builtin', id: 'crown', extra: 1 },
      { kind: 'each-face', id: 'crown' },
    ];
    for (const hat of bad) assert.ok(problemsOf({ hat })[0]?.startsWith('hat'), JSON.stringify(hat));
  });

  test('overlay: numbers only (KMS ignores "-0.2F"), within bounds', () => {
    assert.deepEqual(problemsOf({ overlay: { ...HAT_PLACEMENT, offsetXPercent: '-0.2F' } }), ['overlay.offsetXPercent']);
    assert.deepEqual(problemsOf({ overlay: { ...HAT_PLACEMENT, widthPercent: 0 } }), ['overlay.widthPercent']);
    assert.deepEqual(problemsOf({ overlay: { ...HAT_PLACEMENT, heightPercent: NaN } }), ['overlay.heightPercent']);
    assert.deepEqual(problemsOf({ overlay: { ...HAT_PLACEMENT, offsetYPercent: -11 } }), ['overlay.offsetYPercent']);
  });

  test('STUN/TURN: host names or IPs, real ports, credentials Kurento can carry', () => {
    assert.deepEqual(problemsOf({ stun: { host: 'stun.example.org', port: 0 } }), ['stun.port']);
    assert.deepEqual(problemsOf({ stun: { host: 'bad host', port: 3478 } }), ['stun.host']);
    assert.deepEqual(problemsOf({ stun: { host: '2001:db8::1', port: 3478 } }), []);
    assert.deepEqual(problemsOf({ turn: { ...custom.turn, username: 'a:b' } }), ['turn.username']);
    assert.deepEqual(problemsOf({ turn: { ...custom.turn, password: 'p@ss' } }), ['turn.password']);
    assert.deepEqual(problemsOf({ turn: { ...custom.turn, transport: 'tls' } }), ['turn.transport']);
  });

  test('camera id and kiosk flag', () => {
    assert.deepEqual(problemsOf({ cameraDeviceId: 'x'.repeat(513) }), ['cameraDeviceId']);
    assert.deepEqual(problemsOf({ kiosk: 'true' }), ['kiosk']);
  });
});

describe('settings store', () => {
  test('no file: defaults, no notice, nothing written until a save', async () => {
    const dir = await userData();
    const { store, notices } = await open(dir);
    assert.deepEqual(store.current(), defaultSettings());
    assert.deepEqual(notices, []);
    assert.deepEqual(await readdir(dir), []);
  });

  test('round trip: saved settings come back after a restart', async () => {
    const dir = await userData();
    const { store } = await open(dir);
    assert.deepEqual(await store.save(custom), { ok: true, settings: custom });
    assert.deepEqual(await readJson(dir), { version: SETTINGS_VERSION, ...custom });
    const again = await open(dir);
    assert.deepEqual(again.store.current(), custom);
    assert.deepEqual(again.notices, []);
    assert.deepEqual(await readdir(dir), [SETTINGS_FILE_NAME], 'no temporary or backup files');
  });

  test('current() is a copy: changing it changes nothing stored', async () => {
    const { store } = await open(await userData());
    store.current().overlay.widthPercent = 99;
    assert.equal(store.current().overlay.widthPercent, HAT_PLACEMENT.widthPercent);
  });

  test('an invalid save is answered with problems and writes nothing', async () => {
    const dir = await userData();
    const { store } = await open(dir);
    const result = await store.save({ ...custom, kiosk: 'yes', extra: 1 });
    assert.deepEqual(result, {
      ok: false,
      problems: [
        { path: 'extra', message: 'is not expected here' },
        { path: 'kiosk', message: 'must be true or false' },
      ],
    });
    assert.deepEqual(await readdir(dir), []);
    assert.deepEqual(store.current(), defaultSettings());
  });

  test('concurrent saves are written one after the other; the last one wins', async () => {
    const dir = await userData();
    const { store } = await open(dir);
    const saves = Array.from({ length: 20 }, (_, i) => store.save({ ...custom, cameraDeviceId: `cam-${i}` }));
    await Promise.all(saves);
    assert.equal((await readJson(dir)).cameraDeviceId, 'cam-19');
    assert.equal(store.current().cameraDeviceId, 'cam-19');
    assert.deepEqual(await readdir(dir), [SETTINGS_FILE_NAME]);
  });

  test('a failed write leaves the old file and settings, and no temporary file', async () => {
    const dir = await userData();
    const { store: first } = await open(dir);
    await first.save(custom);
    const failing = { ...nodeIo, rename: async () => Promise.reject(Object.assign(new Error('EXDEV: simulated'), { code: 'EXDEV' })) };
    const { store } = await SettingsStore.open(dir, { io: failing });
    await assert.rejects(store.save(defaultSettings()), /Could not save the settings to .*EXDEV: simulated/);
    assert.deepEqual(await readJson(dir), { version: SETTINGS_VERSION, ...custom });
    assert.deepEqual(store.current(), custom);
    assert.deepEqual(await readdir(dir), [SETTINGS_FILE_NAME]);
    // The queue is not stuck after a failure.
    const { store: healthy } = await open(dir);
    assert.ok((await healthy.save(defaultSettings())).ok);
  });

  test('corrupt JSON: defaults, the file kept as a backup, a notice; the next start is quiet', async () => {
    const dir = await userData('{"version": 1, "kmsUri": "ws://kms:8888/kur');
    const { store, notices } = await open(dir);
    assert.deepEqual(store.current(), defaultSettings());
    assert.equal(notices.length, 1);
    assert.equal(notices[0]!.level, 'warning');
    assert.match(notices[0]!.text, /could not be read: it is not valid JSON .* default settings\. The old file was kept as settings\.json\.corrupt-2026-11-24T23-56-50-606Z\./);
    assert.equal(await readFile(path.join(dir, BACKUP), 'utf8'), '{"version": 1, "kmsUri": "ws://kms:8888/kur');
    assert.deepEqual(await readJson(dir), { version: SETTINGS_VERSION, ...defaultSettings() });
    assert.deepEqual((await open(dir)).notices, []);
  });

  test('not an object, a bad version, a newer version: defaults + backup + notice', async () => {
    for (const [text, reason] of [
      ['[1, 2]', /does not hold a settings object/],
      ['null', /does not hold a settings object/],
      ['{"version": "one"}', /"version" is not a version number/],
      [`{"version": ${SETTINGS_VERSION + 1}, "kmsUri": "builtin"}`, /written by a newer Magic Mirror/],
    ] as const) {
      const dir = await userData(text);
      const { store, notices } = await open(dir);
      assert.deepEqual(store.current(), defaultSettings(), text);
      assert.match(notices[0]!.text, reason, text);
      assert.equal(await readFile(path.join(dir, BACKUP), 'utf8'), text);
    }
  });

  test('invalid fields: each falls back to its default, the valid ones are kept, the notice names them', async () => {
    const text = JSON.stringify({ version: 1, ...custom, kmsUri: 'http://kms:8888', overlay: { ...custom.overlay, widthPercent: '1.4F' }, theme: 'dark' });
    const dir = await userData(text);
    const { store, notices } = await open(dir);
    assert.deepEqual(store.current(), { ...custom, kmsUri: 'builtin', overlay: HAT_PLACEMENT });
    assert.equal(
      notices[0]!.text,
      'Some settings were invalid and are back to their defaults: media server, hat placement. Unknown entries were ignored: theme. ' +
        `The old file was kept as ${BACKUP}.`,
    );
    assert.equal(await readFile(path.join(dir, BACKUP), 'utf8'), text);
    assert.deepEqual(await readJson(dir), { version: 1, ...store.current() });
  });

  test('missing fields take their defaults silently (a hand-written file may name only what it changes)', async () => {
    const dir = await userData('{"version": 1, "kiosk": true}');
    const { store, notices } = await open(dir);
    assert.deepEqual(store.current(), { ...defaultSettings(), kiosk: true });
    assert.deepEqual(notices, []);
    assert.deepEqual(await readdir(dir), [SETTINGS_FILE_NAME], 'left as it is');
  });

  test('a settings file that cannot be read (a folder): defaults and a notice, nothing touched', async () => {
    const dir = await userData();
    await mkdir(path.join(dir, SETTINGS_FILE_NAME));
    const { store, notices } = await open(dir);
    assert.deepEqual(store.current(), defaultSettings());
    assert.match(notices[0]!.text, /could not be opened \(EISDIR/);
    assert.deepEqual(await readdir(dir), [SETTINGS_FILE_NAME]);
  });
});

describe('settings migration', () => {
  const v0 = {
    kmsUri: 'ws://192.0.2.5:8888/kurento',
    hat: 'crown',
    overlay: { offsetXPercent: '-0.35F', offsetYPercent: '-1.2f', widthPercent: '1.6', heightPercent: 1.6 },
    kiosk: true,
  };

  test('version 0 (no "version"): Java-style number strings and a plain hat string are upgraded', () => {
    const { settings, outcome } = decodeSettingsFile(JSON.stringify(v0));
    assert.deepEqual(outcome, { kind: 'migrated', fromVersion: 0 });
    assert.deepEqual(settings, {
      ...defaultSettings(),
      kmsUri: 'ws://192.0.2.5:8888/kurento',
      hat: { kind: 'builtin', id: 'crown' },
      overlay: { offsetXPercent: -0.35, offsetYPercent: -1.2, widthPercent: 1.6, heightPercent: 1.6 },
      kiosk: true,
    });
    assert.deepEqual(decodeSettingsFile(JSON.stringify({ hat: '/srv/hats/mine.png' })).settings.hat, { kind: 'image', uri: '/srv/hats/mine.png' });
    assert.deepEqual(decodeSettingsFile(JSON.stringify({ hat: 'each-face' })).settings.hat, { kind: 'each-face' });
  });

  test('a migrated file is rewritten in the current version; the old one kept as settings.json.v0; no notice', async () => {
    const dir = await userData(JSON.stringify(v0));
    const { store, notices } = await open(dir);
    assert.deepEqual(notices, []);
    assert.equal((await readJson(dir)).version, SETTINGS_VERSION);
    assert.deepEqual(await readJson(dir, `${SETTINGS_FILE_NAME}.v0`), v0);
    assert.deepEqual((await open(dir)).store.current(), store.current());
  });

  test('a version 0 file with values no migration can save is repaired field by field', () => {
    const { settings, outcome } = decodeSettingsFile(JSON.stringify({ ...v0, overlay: { ...v0.overlay, widthPercent: 'wide' } }));
    assert.deepEqual(outcome, { kind: 'repaired', fromVersion: 0, resetFields: ['overlay'], droppedFields: [] });
    assert.deepEqual(settings.overlay, HAT_PLACEMENT);
    assert.equal(settings.kiosk, true);
  });

  test('encode → decode is the identity for the current version', () => {
    assert.deepEqual(decodeSettingsFile(encodeSettingsFile(custom)), { settings: custom, outcome: { kind: 'ok' } });
  });
});

describe('atomic write', () => {
  test('replaces the file whole and leaves no temporary file', async () => {
    const dir = await userData();
    const file = path.join(dir, 'x.json');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, 'two');
    assert.equal(await readFile(file, 'utf8'), 'two');
    assert.deepEqual(await readdir(dir), ['x.json']);
  });

  test('a failure while writing the temporary file leaves the target untouched and cleans up', async () => {
    const dir = await userData();
    const file = path.join(dir, 'x.json');
    await writeFile(file, 'old');
    const io = {
      ...nodeIo,
      writeNewFile: async (temp: string, text: string) => {
        await writeFile(temp, text.slice(0, 3)); // half written, then the disk is full
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      },
    };
    await assert.rejects(writeFileAtomic(file, 'new content', io), /ENOSPC/);
    assert.equal(await readFile(file, 'utf8'), 'old');
    assert.deepEqual(await readdir(dir), ['x.json']);
  });
});
