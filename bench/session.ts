/**
 * One magic-mirror session as the app builds it (main/mirror/session.ts): the camera is already
 * live when the user presses Start; then the browser's offer, MediaPipeline → WebRtcEndpoint →
 * FaceOverlayFilter (setOverlayedImage, connect both ways) or a plain endpoint loopback,
 * IceCandidateFound subscribed before processOffer, answer, gatherCandidates, ICE connected.
 * Each step is time-stamped (test/helpers/kurento.ts connectFakeCamera does the same wiring
 * without the timestamps, and starts the camera only once connected).
 */
import { performance } from 'node:perf_hooks';
import kurento from 'kurento-client';
import type { VideoFrame } from '../engine/media/frames.js';
import { EACH_FACE_TAG, TILT_TAG } from '../common/filter-tags.js';
import { dropClient } from '../test/helpers/kurento.js';
import type { FakeCameraPeer } from '../test/helpers/fake-camera-peer.js';
import { stillFaceBox } from '../test/helpers/face-clip.js';
import { changedMask, clipRect, expectedHatRect } from '../test/helpers/hat-pixels.js';
import { loadBackgroundI420 } from '../test/helpers/video-fixtures.js';
import { waitFor } from '../test/helpers/wait.js';

export type PipelineKind = 'mirror' | 'loopback';

/** The tutorial's hat placement (also the app's default). */
export const TUTORIAL_OFFSETS = [-0.35, -1.2, 1.6, 1.6] as const;

/** performance.now() at each step of a Start. */
export interface StartTimings {
  start: number;
  /** Pipeline and elements created, hat set, elements connected. */
  built: number;
  /** processOffer answered and the answer applied on the camera side. */
  answered: number;
  /** ICE connected (camera side). */
  connected: number;
  /**
   * The first video frame reached the element after the endpoint (MediaFlowInStateChanged
   * FLOWING: the camera → server hop is done); NaN until then. Arrives by event, a few ms late.
   */
  serverFirstVideo: number;
}

export interface OpenSession {
  kind: PipelineKind;
  pipeline: kurento.MediaPipeline;
  timings: StartTimings;
  /** The app's Stop: release the pipeline, then close the camera side (remote side first: see engine-leaks.test.ts). */
  release(): Promise<void>;
  /**
   * The app vanishes: its socket drops with no release; the server must clean up after its
   * grace period. Waits (up to waitMs) for the pipeline to disappear, then closes the camera.
   * Resolves false if the pipeline was still there after waitMs.
   */
  abandon(client: kurento.KurentoClient, pipelines: () => Promise<string[]>, waitMs: number): Promise<boolean>;
}

/**
 * One kurento-client request in its callback form. The promise form must not be used here:
 * kurento-client 7.2 RESOLVES it with `undefined` when the request fails or times out (its
 * default callback logs the error and returns nothing; see docs/STATUS.md "Known broken").
 * Under overload (8 sessions on 2 cores, engine replies > 20 s late) that handed `undefined` to
 * the camera's setRemoteDescription as the SDP answer: wrtc's TypeError "Expect line: v=".
 */
export function kmsCall<T>(what: string, invoke: (done: (error: Error | null | undefined, result: T) => void) => unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    invoke((error, result) => (error ? reject(new Error(`${what}: ${error.message}`, { cause: error })) : resolve(result)));
  });
}

/** The answer processOffer returned, if it is an SDP; otherwise a clear error (never garbage on to wrtc). */
export function checkedAnswer(answer: unknown): string {
  if (typeof answer === 'string' && answer.startsWith('v=')) return answer;
  const what = typeof answer === 'string' ? `${JSON.stringify(answer.slice(0, 40))} (${answer.length} chars)` : String(answer);
  throw new Error(`processOffer answered no SDP: ${what}`);
}

/**
 * A failed event subscription (e.g. a subscribe that timed out under load) is emitted as the
 * object's 'error' event, which would throw (no listener) and kill the harness; kurento-client's
 * 'newListener' hook refuses an 'error' listener, so it is lifted while ours is added (as
 * main/kms/kms-connection.ts catchSubscriptionErrors does).
 */
function onSubscriptionError(object: kurento.MediaObject, onError: (err: Error) => void): void {
  const hooks = object.listeners('newListener') as ((...args: unknown[]) => void)[];
  object.removeAllListeners('newListener');
  object.on('error' as never, onError as never);
  for (const hook of hooks) object.on('newListener', hook);
}

export async function openSession(
  client: kurento.KurentoClient,
  peer: FakeCameraPeer,
  kind: PipelineKind,
  hatUrl: string,
  /**
   * tilt: tag the filter so the hat tilts with the head, as the Magic Mirror app does;
   * eachFace: more images, one per face in turn (EACH_FACE_TAG).
   */
  opts: { connectTimeoutMs?: number; tilt?: boolean; eachFace?: string[] } = {},
): Promise<OpenSession> {
  const start = performance.now();
  const offer = await peer.createOffer();
  const pipeline = await kmsCall<kurento.MediaPipeline>('create MediaPipeline', (done) => client.create('MediaPipeline', done));
  const release = () => kmsCall<void>('release', (done) => pipeline.release(done));
  try {
    const endpoint = await kmsCall<kurento.WebRtcEndpoint>('create WebRtcEndpoint', (done) => pipeline.create('WebRtcEndpoint', done));
    let subscriptionError: Error | undefined;
    const subscriptionFailed = (err: Error) => void (subscriptionError ??= new Error(`subscribe: ${err.message}`, { cause: err }));
    onSubscriptionError(endpoint, subscriptionFailed);
    let sinkOf: kurento.MediaElement = endpoint;
    if (kind === 'mirror') {
      const filter = await kmsCall<kurento.FaceOverlayFilter>('create FaceOverlayFilter', (done) => pipeline.create('FaceOverlayFilter', done));
      onSubscriptionError(filter, subscriptionFailed);
      await kmsCall<void>('setOverlayedImage', (done) => filter.setOverlayedImage(hatUrl, ...TUTORIAL_OFFSETS, done));
      if (opts.tilt) await kmsCall<void>('addTag', (done) => filter.addTag(TILT_TAG, 'on', done));
      if (opts.eachFace?.length) await kmsCall<void>('addTag', (done) => filter.addTag(EACH_FACE_TAG, opts.eachFace!.join(' '), done));
      await kmsCall<void>('connect endpoint → filter', (done) => endpoint.connect(filter, done));
      await kmsCall<void>('connect filter → endpoint', (done) => filter.connect(endpoint, done));
      sinkOf = filter;
    } else {
      await kmsCall<void>('connect endpoint → endpoint', (done) => endpoint.connect(endpoint, done));
    }
    const built = performance.now();
    const timings: StartTimings = { start, built, answered: NaN, connected: NaN, serverFirstVideo: NaN };
    await sinkOf.on('MediaFlowInStateChanged' as never, ((e: { mediaType: string; state: string }) => {
      if (e.mediaType === 'VIDEO' && e.state === 'FLOWING' && Number.isNaN(timings.serverFirstVideo)) timings.serverFirstVideo = performance.now();
    }) as never);
    endpoint.on('IceCandidateFound', (e: { candidate: kurento.IceCandidate }) => void peer.addIceCandidate(e.candidate));
    peer.on('iceCandidate', (c) => void endpoint.addIceCandidate(kurento.getComplexType('IceCandidate')(c)).catch(() => undefined));
    const answer = await kmsCall<string>('processOffer', (done) => endpoint.processOffer(offer, done));
    await peer.processAnswer(checkedAnswer(answer));
    timings.answered = performance.now();
    await kmsCall<void>('gatherCandidates', (done) => endpoint.gatherCandidates(done));
    if (subscriptionError) throw subscriptionError;
    await peer.connected(opts.connectTimeoutMs ?? 15_000);
    timings.connected = performance.now();
    let done = false;
    return {
      kind,
      pipeline,
      timings,
      async release() {
        if (done) return;
        done = true;
        try {
          await release();
        } finally {
          peer.close();
        }
      },
      async abandon(c, pipelines, waitMs) {
        if (done) return true;
        done = true;
        dropClient(c);
        try {
          await waitFor(async () => !(await pipelines()).includes(pipeline.id), waitMs, 'abandoned pipeline released');
          return true;
        } catch {
          return false;
        } finally {
          peer.close();
        }
      },
    };
  } catch (err) {
    await release().catch(() => undefined);
    peer.close();
    throw err;
  }
}

/**
 * A test for "this returned frame shows the hat": the frame differs from the sent 'face'
 * background over at least `minFraction` of where the hat belongs (KMS's formula on the known
 * face box, clipped to the frame). Only that rectangle is compared (cheap enough per frame).
 */
export async function hatDetector(width: number, height: number, minFraction = 0.3): Promise<(frame: VideoFrame) => boolean> {
  const sent = await loadBackgroundI420('face', width, height);
  const hat = clipRect(expectedHatRect(stillFaceBox(width, height)), width, height);
  return (frame) => {
    const sx = frame.width / width;
    const sy = frame.height / height;
    const region = { x: hat.x * sx, y: hat.y * sy, width: hat.width * sx, height: hat.height * sy };
    const { count } = changedMask(frame, sent, region);
    return count >= minFraction * region.width * region.height;
  };
}
