/**
 * What the media server says about a running mirror, turned into `status` messages: ICE
 * state, whether camera video reaches the server and whether hatted video goes back, and
 * problems (raised once, cleared when they go away). None of these ends the mirror: the page
 * shows them and the person decides.
 *
 * KMS's direction words are the element's, not the person's: on the WebRtcEndpoint,
 * MediaFlowOut is media leaving the endpoint INTO the pipeline (the camera, "media-in" for
 * us) and MediaFlowIn is media entering it FROM the pipeline (the mirror, "media-out").
 */
import type { MirrorProblem, MirrorStatus } from '../../common/mirror-protocol.js';
import { PROBLEM_TEXT } from '../problems.js';

/** Payloads of the Kurento events used here (see shared/traces for real ones). */
export interface IceComponentStateChanged {
  streamId: number;
  componentId: number;
  state: string;
}
export interface MediaFlowStateChanged {
  mediaType: 'AUDIO' | 'VIDEO' | 'DATA';
  state: 'FLOWING' | 'NOT_FLOWING';
}
export interface KurentoErrorEvent {
  type: string;
  errorCode: number;
  description: string;
}

/** KMS's error type for a URI it could not read; the engine's FaceOverlayFilter raises it for a hat it cannot load. */
const URI_PATH_FILE_NOT_FOUND = 40600;

export class MediaStatus {
  readonly #problems = new Set<MirrorProblem>();
  #noMediaTimer: NodeJS.Timeout | undefined;
  #cameraFlowing = false;

  constructor(
    private readonly o: {
      report: (status: MirrorStatus) => void;
      hatUri: string;
      noMediaMs: number;
    },
  ) {}

  /** The answer went out: camera video should arrive within noMediaMs. */
  answered(): void {
    if (!this.#cameraFlowing) this.#armNoMedia();
  }

  /** ICE of the RTP component (with rtcp-mux, which browsers require, component 2 never gets past GATHERING on KMS). */
  iceComponent(e: IceComponentStateChanged): void {
    if (e.componentId !== 1) return;
    this.o.report({ kind: 'ice', state: e.state });
    if (e.state === 'FAILED') this.raise('ice-failed', PROBLEM_TEXT.iceFailed());
    else if (e.state === 'CONNECTED' || e.state === 'READY') this.clear('ice-failed');
  }

  /** The endpoint's MediaFlowOut: camera video entering the pipeline. */
  cameraFlow(e: MediaFlowStateChanged): void {
    if (e.mediaType !== 'VIDEO') return;
    this.#cameraFlowing = e.state === 'FLOWING';
    this.o.report({ kind: 'media-in', flowing: this.#cameraFlowing });
    if (this.#cameraFlowing) {
      clearTimeout(this.#noMediaTimer);
      this.clear('no-media');
    } else {
      this.#armNoMedia();
    }
  }

  /** The endpoint's MediaFlowIn: hatted video leaving for the page. */
  mirrorFlow(e: MediaFlowStateChanged): void {
    if (e.mediaType === 'VIDEO') this.o.report({ kind: 'media-out', flowing: e.state === 'FLOWING' });
  }

  filterError(e: KurentoErrorEvent): void {
    if (e.errorCode === URI_PATH_FILE_NOT_FOUND || e.type === 'URI_PATH_FILE_NOT_FOUND') {
      // The engine's description starts by repeating the URI, which our text already names.
      this.raise('hat-failed', PROBLEM_TEXT.hatFailed(this.o.hatUri, e.description.replace(`Could not load overlay image ${this.o.hatUri}: `, '')));
    } else {
      this.raise('internal', PROBLEM_TEXT.elementError('face filter', e.description));
    }
  }

  endpointError(e: KurentoErrorEvent): void {
    this.raise('internal', PROBLEM_TEXT.elementError('WebRTC endpoint', e.description));
  }

  /** Reports a problem, once until it is cleared. */
  raise(problem: MirrorProblem, message: string): void {
    if (this.#problems.has(problem)) return;
    this.#problems.add(problem);
    this.o.report({ kind: 'problem', problem, message });
  }

  clear(problem: MirrorProblem): void {
    if (this.#problems.delete(problem)) this.o.report({ kind: 'problem-cleared', problem });
  }

  stop(): void {
    clearTimeout(this.#noMediaTimer);
  }

  #armNoMedia(): void {
    clearTimeout(this.#noMediaTimer);
    this.#noMediaTimer = setTimeout(() => this.raise('no-media', PROBLEM_TEXT.noMedia(this.o.noMediaMs)), this.o.noMediaMs);
    this.#noMediaTimer.unref();
  }
}
