/**
 * The hat server: what it serves, and which URL each kind of hat choice becomes for a media
 * server on this machine or elsewhere.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HatServer } from '../main/hats/hat-server.js';
import { MirrorError } from '../main/problems.js';
import { TEST_HAT, makeHatDir } from './helpers/hat-fixture.js';
import { FIXTURES_DIR } from './helpers/video-fixtures.js';

let dir: string;
let removeDir: () => Promise<void>;
before(async () => ({ dir, remove: removeDir } = await makeHatDir()));
after(() => removeDir());

const rejectsWith = async (p: Promise<unknown>, message: string) => {
  await assert.rejects(p, (err: unknown) => err instanceof MirrorError && err.problem === 'hat-failed' && err.message === message);
};

describe('HatServer', () => {
  test('serves the built-in hats, and nothing else', async () => {
    const hats = await HatServer.start({ dir });
    try {
      const base = `http://127.0.0.1:${hats.port}`;
      const res = await fetch(`${base}/hats/${TEST_HAT}.png`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'image/png');
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), await readFile(path.join(dir, `${TEST_HAT}.png`)));
      assert.equal((await fetch(`${base}/hats/${TEST_HAT}.png`, { method: 'HEAD' })).status, 200);
      for (const p of ['/hats/nope.png', '/hats/..%2f..%2fetc%2fpasswd.png', `/hats/${TEST_HAT}.jpg`, '/', '/hats/file/whatever.png']) {
        assert.equal((await fetch(base + p)).status, 404, p);
      }
      assert.equal((await fetch(`${base}/hats/${TEST_HAT}.png`, { method: 'POST' })).status, 405);
    } finally {
      await hats.close();
    }
  });

  test('hat choices: built-in name (default: the first), http(s) URL as it is, a local file served by token', async () => {
    const hats = await HatServer.start({ dir });
    try {
      const kms = 'ws://127.0.0.1:8888/kurento';
      const builtin = `http://127.0.0.1:${hats.port}/hats/${TEST_HAT}.png`;
      assert.deepEqual(await hats.builtinHats(), [TEST_HAT]);
      assert.equal(await hats.uriFor(undefined, 'builtin'), builtin);
      assert.equal(await hats.uriFor(TEST_HAT, kms), builtin);
      assert.equal(await hats.uriFor('https://example.com/my%20hat.png', kms), 'https://example.com/my%20hat.png');

      const file = path.join(FIXTURES_DIR, 'coffee.png');
      for (const choice of [file, `file://${file}`]) {
        const uri = await hats.uriFor(choice, kms);
        assert.match(uri, new RegExp(`^http://127\\.0\\.0\\.1:${hats.port}/hats/file/[0-9a-f-]{36}\\.png$`), 'never a file:// URI');
        assert.deepEqual(Buffer.from(await (await fetch(uri)).arrayBuffer()), await readFile(file));
      }

      await rejectsWith(hats.uriFor('wizard', kms), `There is no built-in hat "wizard" (there are: ${TEST_HAT}).`);
      await rejectsWith(hats.uriFor('ftp://example.com/hat.png', kms), '"ftp://example.com/hat.png" is not a hat: give a built-in hat\'s name, an http(s):// URL or a local .png file.');
      await rejectsWith(hats.uriFor('/no/such/hat.png', kms), '"/no/such/hat.png" is not a hat: give a built-in hat\'s name, an http(s):// URL or a local .png file.');
    } finally {
      await hats.close();
    }
    const empty = await HatServer.start({ dir: path.join(dir, 'none') });
    try {
      await rejectsWith(empty.uriFor(undefined, 'builtin'), `There are no built-in hats (no .png files in ${path.join(dir, 'none')}).`);
    } finally {
      await empty.close();
    }
  });

  test('a media server on another machine gets a URL it can reach', async () => {
    const lan = Object.values(os.networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    const loopbackOnly = await HatServer.start({ dir });
    const everywhere = await HatServer.start({ dir, host: '0.0.0.0' });
    const published = await HatServer.start({ dir, publicUrl: 'http://203.0.113.7:8444/' });
    try {
      const remote = 'ws://192.0.2.10:8888/kurento';
      await rejectsWith(
        loopbackOnly.uriFor(TEST_HAT, remote),
        'The media server at ws://192.0.2.10:8888/kurento cannot fetch hats from this computer: the hat server listens on 127.0.0.1 only. ' +
          'Let it listen on a network address (e.g. 0.0.0.0) or give its public URL.',
      );
      assert.equal(await published.uriFor(TEST_HAT, remote), `http://203.0.113.7:8444/hats/${TEST_HAT}.png`);
      assert.equal(await everywhere.uriFor(TEST_HAT, 'builtin'), `http://127.0.0.1:${everywhere.port}/hats/${TEST_HAT}.png`);
      if (lan) {
        // This machine's own LAN address as the "remote" KMS: the route to it starts at that address.
        const uri = await everywhere.uriFor(TEST_HAT, `ws://${lan}:8888/kurento`);
        assert.equal(uri, `http://${lan}:${everywhere.port}/hats/${TEST_HAT}.png`);
        assert.equal((await fetch(uri)).status, 200);
      }
    } finally {
      await Promise.all([loopbackOnly.close(), everywhere.close(), published.close()]);
    }
  });
});
