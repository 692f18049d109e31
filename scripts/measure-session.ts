/**
 * One mirror session at 640×480/30 through the embedded engine, measured: returned fps
 * (distinct frame counters per second), engine CPU and RSS (from /proc), face detections
 * per second and ms per detection. Usage: npx tsx scripts/measure-session.ts [seconds] [pass|filter]
 */
import { readFileSync } from 'node:fs';
import kurento from 'kurento-client';
import { startEngine } from '../engine/start.js';
import { kurentoClient, connectFakeCamera } from '../test/helpers/kurento.js';
import { FakeCameraPeer } from '../test/helpers/fake-camera-peer.js';
import { engineCounts } from '../test/helpers/engine-counts.js';
import { serveStatic } from '../test/helpers/chromium.js';
import { testHatPng } from '../test/helpers/hat-pixels.js';

const seconds = Number(process.argv[2] ?? 10);
const mode = process.argv[3] ?? 'filter';
const cpuTicks = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
};
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

const engine = await startEngine({ log: () => undefined });
const client = await kurentoClient(engine.uri);
const hats = await serveStatic({ '/hat.png': testHatPng() });
const peer = new FakeCameraPeer({ background: 'face', width: 640, height: 480, fps: 30 });
const pipeline = await client.create('MediaPipeline');
const endpoint = await pipeline.create('WebRtcEndpoint');
const middle = mode === 'pass' ? await pipeline.create('PassThrough') : await pipeline.create('FaceOverlayFilter');
if (mode !== 'pass') await (middle as kurento.FaceOverlayFilter).setOverlayedImage(`${hats.url}/hat.png`, -0.35, -1.2, 1.6, 1.6);
await endpoint.connect(middle);
await middle.connect(endpoint);
await connectFakeCamera(endpoint, peer);
await peer.received.waitForCounters(30, 15_000);

const c0 = peer.received.counters.size;
const t0 = performance.now();
const cpu0 = cpuTicks(engine.pid);
const d0 = await engineCounts(engine.uri);
const selfCpu0 = process.cpuUsage();
await new Promise((r) => setTimeout(r, seconds * 1000));
const elapsed = (performance.now() - t0) / 1000;
const cpu = (cpuTicks(engine.pid) - cpu0) / 100 / elapsed;
const d1 = await engineCounts(engine.uri);
const selfCpu = process.cpuUsage(selfCpu0);
const last = peer.received.frames[peer.received.frames.length - 1]!;
const result = {
  mode,
  seconds: +elapsed.toFixed(1),
  mirrorFps: +((peer.received.counters.size - c0) / elapsed).toFixed(1),
  received: `${last.width}x${last.height}`,
  engineCpuCores: +cpu.toFixed(2),
  engineRssMb: +rssMb(engine.pid).toFixed(0),
  detectionsPerSecond: +((d1.detections - d0.detections) / elapsed).toFixed(1),
  msPerDetection: d1.detections > d0.detections ? +((d1.detectionMsTotal - d0.detectionMsTotal) / (d1.detections - d0.detections)).toFixed(1) : null,
  harnessCpuCores: +((selfCpu.user + selfCpu.system) / 1e6 / elapsed).toFixed(2),
};
console.log(JSON.stringify(result));
await pipeline.release();
peer.close();
client.close();
await hats.close();
await engine.close();
process.exit(0);
