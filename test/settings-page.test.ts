/**
 * The Settings page's pure parts, in Node: its checks as the person types (the same address
 * rule as the main process), where a save's problems are shown, and the preview's geometry
 * (KMS's hat formula). The page itself is driven in Chromium by desktop-renderer.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BUILTIN_KMS_URI } from '../common/kms-uri.js';
import { BUILTIN_KMS, HAT_PLACEMENT } from '../main/defaults.js';
import { REQUEST_SCHEMAS } from '../main/ipc/payloads.js';
import { defaultSettings } from '../main/settings/defaults.js';
import { SETTINGS_SCHEMA } from '../main/settings/schema.js';
import { fieldForProblem, kmsUriIssue, readNumber, refusedCharacter, sentence } from '../renderer/settings/fields.js';
import { hatRect, previewView } from '../renderer/settings/hat-preview.js';
import { expectedHatRect } from './helpers/hat-pixels.js';

describe('the Settings page checks as the person types', () => {
  test('media server address: builtin or ws(s)://host, each mistake named; the main process applies the same rule', () => {
    assert.equal(BUILTIN_KMS_URI, BUILTIN_KMS);
    const cases: [string, ReturnType<typeof kmsUriIssue>][] = [
      ['builtin', undefined],
      ['ws://localhost:8888/kurento', undefined],
      ['wss://kms.example.org/kurento', undefined],
      ['ws://[::1]:8888/kurento', undefined],
      ['', 'empty'],
      ['   ', 'empty'],
      [' builtin', 'spaces'],
      ['ws://kms host/kurento', 'spaces'],
      ['Builtin', 'scheme'],
      ['http://localhost:8888/kurento', 'scheme'],
      ['localhost:8888/kurento', 'scheme'],
      ['kms.example.org', 'scheme'],
      ['ws://', 'host'],
      ['ws://:8888/kurento', 'host'],
      ['ws://a b', 'spaces'],
      ['ws:kms', 'host'], // the URL standard would read it as ws://kms/: refused, ws://kms is what to type (issue 23)
      ['ws:///kurento', 'host'], // would be read as host "kurento"
      ['ws:\\\\kms/kurento', 'invalid'], // backslashes read as /
      ['ws://kms\t/kurento', 'spaces'],
      ['ws://me:pw@kms/kurento', 'invalid'],
    ];
    for (const [uri, issue] of cases) {
      assert.equal(kmsUriIssue(uri), issue, JSON.stringify(uri));
      // The main process accepts exactly what the page accepts (test-connection's payload schema).
      const accepted = REQUEST_SCHEMAS['settings:test-connection'].check({ kmsUri: uri, timeoutMs: 1000 }).ok;
      assert.equal(accepted, issue === undefined, `main vs page on ${JSON.stringify(uri)}`);
    }
  });

  test('number fields: a letter or a comma typed or pasted is refused with its reason; text that is no number is named', () => {
    assert.deepEqual(refusedCharacter('F'), { kind: 'character', character: 'F' });
    assert.deepEqual(refusedCharacter('-0.35F'), { kind: 'character', character: 'F' });
    assert.deepEqual(refusedCharacter('1,5'), { kind: 'comma' });
    for (const ok of ['-', '0', '.', '1e-3', '+2', '-0.35']) assert.equal(refusedCharacter(ok), undefined, ok);
    assert.deepEqual(readNumber('-0.35', false), { ok: true, value: -0.35 });
    assert.deepEqual(readNumber('1e1', false), { ok: true, value: 10 });
    assert.deepEqual(readNumber('', false), { ok: false, issue: { kind: 'empty' } });
    assert.deepEqual(readNumber('', true), { ok: false, issue: { kind: 'not-a-number' } });
    assert.deepEqual(readNumber('Infinity', false), { ok: false, issue: { kind: 'not-a-number' } });
  });

  test('every problem a save can answer has a field to show it at (kiosk mode and its new staff PIN too)', () => {
    const d = defaultSettings();
    const bad = [
      { ...d, kmsUri: 'http://x' },
      { ...d, hat: { kind: 'builtin', id: 'wizard' } },
      { ...d, hat: { kind: 'image', uri: 'hat.gif' } },
      { ...d, hat: { kind: 'sticker' } },
      { ...d, overlay: { offsetXPercent: 'x', offsetYPercent: 99, widthPercent: 0, heightPercent: '1.6F' } },
      { ...d, overlay: null },
      { ...d, stun: { host: 'bad host', port: 0 } },
      { ...d, stun: 'stun.example.org' },
      { ...d, turn: { host: '', port: 70000, username: 'a:b', password: 'c@d', transport: 'tls' } },
      { ...d, cameraDeviceId: 42 },
    ];
    const paths = new Set<string>();
    for (const s of bad) {
      const r = SETTINGS_SCHEMA.check(s);
      assert.equal(r.ok, false, JSON.stringify(s));
      if (!r.ok) r.problems.forEach((p) => paths.add(p.path));
    }
    for (const path of paths) assert.ok(fieldForProblem(path), `no field for ${path}`);
    assert.ok(paths.has('overlay.heightPercent') && paths.has('turn.transport') && paths.has('hat.id'), [...paths].join(', '));
    assert.equal(fieldForProblem('kiosk'), 'kiosk', 'kiosk mode without a staff PIN, and kiosk mode without the staff session');
    assert.equal(fieldForProblem('newStaffPin'), 'staff-pin');
    assert.equal(sentence('must be between -10 and 10'), 'Must be between -10 and 10.');
    assert.equal(sentence('must not contain ":" or "@".'), 'Must not contain ":" or "@".');
  });
});

describe('the hat preview', () => {
  const face = { x: 168.5, y: 60.8, width: 107.7, height: 107.7 };

  test("places the hat with KMS's formula", () => {
    for (const o of [HAT_PLACEMENT, { offsetXPercent: 0, offsetYPercent: -0.5, widthPercent: 1, heightPercent: 0.5 }, { offsetXPercent: 2, offsetYPercent: 3, widthPercent: 0.1, heightPercent: 4 }]) {
      const r = hatRect({ x: 238, y: 57, width: 101, height: 101 }, o);
      const kms = expectedHatRect({ x: 238, y: 57, width: 101, height: 101 }, o);
      for (const k of ['x', 'y', 'width', 'height'] as const) assert.ok(Math.abs(r[k] - kms[k]) < 1, `${k}: ${r[k]} vs ${kms[k]}`);
    }
  });

  test('shows the face and the whole hat, at the canvas aspect, over as much photo as it can', () => {
    const photo = { width: 512, height: 512 };
    for (const o of [HAT_PLACEMENT, { offsetXPercent: -3, offsetYPercent: -1.2, widthPercent: 1.6, heightPercent: 1.6 }, { offsetXPercent: 1, offsetYPercent: 1, widthPercent: 1, heightPercent: 1 }]) {
      const hat = hatRect(face, o);
      const v = previewView(face, hat, 4 / 3, photo);
      assert.ok(Math.abs(v.width / v.height - 4 / 3) < 1e-9);
      const inside = (b: typeof face) => b.x >= v.x - 1e-9 && b.y >= v.y - 1e-9 && b.x + b.width <= v.x + v.width + 1e-9 && b.y + b.height <= v.y + v.height + 1e-9;
      assert.ok(inside(face) && inside(hat), `${JSON.stringify(o)} → ${JSON.stringify(v)}`);
    }
    // The tutorial's values: the hat reaches above the photo, but no empty band at the sides.
    const v = previewView(face, hatRect(face, HAT_PLACEMENT), 4 / 3, photo);
    assert.ok(v.y < 0 && v.x >= 0 && v.x + v.width <= photo.width, JSON.stringify(v));
  });
});
