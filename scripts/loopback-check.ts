/**
 * Does the mirror work on a machine whose only network is loopback? Run it inside a network
 * namespace that has nothing but `lo` (scripts/loopback-netns.sh does the namespace part):
 *
 *   ip netns add mm-lo && ip netns exec mm-lo ip link set lo up
 *   ip netns exec mm-lo node --import tsx scripts/loopback-check.ts [node|chromium|chromium-loopback] [seconds]
 *
 * node:               a wrtc FakeCameraPeer through the session core (MirrorSession, KmsRegistry)
 *                     to the built-in engine, as the desktop app's main process drives it.
 * chromium:           the real page in headless Chromium through web mode (the browser/Electron
 *                     renderer side), with Chromium's default ICE settings.
 * chromium-loopback:  the same with --allow-loopback-in-peer-connection (what the app sets).
 *
 * Prints one JSON line: the interfaces seen, the candidates each side offered, whether ICE
 * connected, frames received and the time to the first frame.
 */
import os from 'node:os';
import { parseClientMessage, type IceCandidateJson, type ServerMessage } from '../common/mirror-protocol.js';
import { HatServer } from '../main/hats/hat-server.js';
import { KmsRegistry } from '../main/kms/kms-registry.js';
import { MirrorSession } from '../main/mirror/session.js';
import { startWebMode } from '../main/web/web-mode.js';
import { launchChromium } from '../test/helpers/chromium.js';
import { buildRenderer } from '../test/helpers/build-renderer.js';
import { FakeCameraPeer } from '../test/helpers/fake-camera-peer.js';
import { makeHatDir } from '../test/helpers/hat-fixture.js';
import { TutorialPage } from '../test/helpers/tutorial-page.js';

const mode = process.argv[2] ?? 'node';
const seconds = Number(process.argv[3] ?? 20);
const interfaces = Object.entries(os.networkInterfaces()).map(([name, addrs]) => `${name}:${(addrs ?? []).map((a) => a.address).join(',')}`);
const kindOf = (c: string) => /typ (\w+)/.exec(c)?.[1] ?? '?';
const addrOf = (c: string) => c.split(' ')[4] ?? '?';
const describe = (cs: string[]) => [...new Set(cs.filter(Boolean).map((c) => `${addrOf(c)} ${/ (udp|tcp) /i.exec(c)?.[1]?.toLowerCase()} ${kindOf(c)}`))];

async function viaNode(): Promise<Record<string, unknown>> {
  const hatDir = await makeHatDir();
  const hats = await HatServer.start({ dir: hatDir.dir });
  const registry = new KmsRegistry({ engineLog: () => {} });
  const peer = new FakeCameraPeer({ background: 'face', width: 320, height: 240 });
  const serverCandidates: string[] = [];
  const t0 = performance.now();
  let page!: TutorialPage;
  const hatUri = await hats.uriFor(undefined, 'builtin');
  const session = new MirrorSession({
    connect: () => registry.get('builtin'),
    hatUri,
    send: (m) => {
      if (m.id === 'iceCandidate') serverCandidates.push(m.candidate.candidate);
      page.receive(JSON.parse(JSON.stringify(m)) as ServerMessage);
    },
  });
  page = new TutorialPage(peer, (m) => void session.handle(parseClientMessage(JSON.stringify(m))!), { statusEvents: true });
  const result: Record<string, unknown> = {};
  try {
    await page.start();
    await page.waitFor((m) => m.id === 'startResponse' || m.id === 'error', 20_000);
    const error = page.received.find((m) => m.id === 'error');
    if (error) throw new Error(`server error: ${JSON.stringify(error)}`);
    const connected = await Promise.race([peer.connected().then(() => true), sleep(seconds * 1000).then(() => false)]);
    result.iceConnected = connected;
    if (connected) {
      await peer.start();
      await peer.received.waitForCounters(30, seconds * 1000).catch(() => undefined);
      result.firstFramesMs = Math.round(performance.now() - t0);
    }
    result.framesReceived = peer.received.frameCount;
    result.pageCandidates = describe(page.sentCandidates.map((c) => c.candidate));
    result.serverCandidates = describe(serverCandidates);
    result.statuses = page.received.flatMap((m) => (m.id === 'status' ? [m.status] : []));
  } finally {
    await session.close();
    peer.close();
    await registry.close();
    await hats.close();
    await hatDir.remove();
  }
  return result;
}

async function viaChromium(allowLoopback: boolean): Promise<Record<string, unknown>> {
  if (!process.env.MM_SKIP_BUILD) await buildRenderer(); // the netns test builds once before
  const web = await startWebMode({ asUri: 'http://127.0.0.1:0/', engineLog: () => {} });
  const chromium = await launchChromium({ extraArgs: allowLoopback ? ['--allow-loopback-in-peer-connection'] : [] });
  const result: Record<string, unknown> = {};
  try {
    const page = await chromium.page();
    const candidates: { page: string[]; server: string[] } = { page: [], server: [] };
    page.on('websocket', (ws) => {
      ws.on('framesent', (f) => collect(String(f.payload), 'onIceCandidate', candidates.page));
      ws.on('framereceived', (f) => collect(String(f.payload), 'iceCandidate', candidates.server));
    });
    await page.goto(web.url);
    await page.locator('#status-text', { hasText: 'Ready' }).waitFor({ timeout: 20_000 });
    const t0 = performance.now();
    await page.locator('#start-stop').click();
    // Live, or a problem card (no-network when the browser found no candidate at all).
    const outcome = await Promise.race([
      page.locator('#status-text', { hasText: 'Mirror is live' }).waitFor({ timeout: seconds * 1000 }).then(() => 'live'),
      page.locator('#problem').waitFor({ state: 'visible', timeout: seconds * 1000 }).then(() => 'problem'),
    ]).catch(() => 'timeout');
    result.live = outcome === 'live';
    result[outcome === 'live' ? 'firstFrameMs' : 'outcomeMs'] = Math.round(performance.now() - t0);
    result.problem = (await page.locator('#problem').getAttribute('data-problem')) ?? null;
    result.problemShown = await page.locator('#problem').isVisible();
    result.statusText = await page.locator('#status-text').textContent();
    result.pageCandidates = describe(candidates.page);
    result.serverCandidates = describe(candidates.server);
  } finally {
    await chromium.close();
    await web.close();
  }
  return result;
}

function collect(payload: string, id: string, into: string[]): void {
  try {
    const m = JSON.parse(payload) as { id?: string; candidate?: IceCandidateJson };
    if (m.id === id && m.candidate) into.push(m.candidate.candidate);
  } catch {
    // not JSON
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const t = performance.now();
let out: Record<string, unknown>;
try {
  out = mode === 'node' ? await viaNode() : await viaChromium(mode === 'chromium-loopback');
} catch (err) {
  out = { error: (err as Error).message };
}
console.log(JSON.stringify({ mode, interfaces, ...out, totalMs: Math.round(performance.now() - t) }));
// wrtc: exit explicitly (a process that made an RTCVideoSource crashes when it exits by itself).
process.exit(0);
