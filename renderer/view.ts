/**
 * The page's DOM: element look-ups, texts from messages.ts, and render(), which draws the
 * whole visible state from one ViewModel so that no combination of events can leave, say, a
 * spinner over an error card.
 */
import { TEXT } from './messages.js';

/** The tutorial's three states: I_CAN_START, I_AM_STARTING, I_CAN_STOP. */
export type MirrorState = 'idle' | 'starting' | 'running';

export type StatusTone = 'idle' | 'busy' | 'live' | 'warn' | 'error';

export interface ShownProblem {
  /** The Problem code, or the server's own code if the page does not know it. */
  code: string;
  title: string;
  hint: string;
  retry: boolean;
}

export interface ViewModel {
  state: MirrorState;
  /** The mirror <video> is showing frames. */
  live: boolean;
  /** Over the video, hiding it. */
  problem?: ShownProblem;
  /** Under the video, leaving it visible. */
  notice?: ShownProblem;
  status: { text: string; tone: StatusTone };
  muted: boolean;
  statsShown: boolean;
  /** The camera is shown before Start (camera-preview.ts). */
  cameraPreview: boolean;
}

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html has no #${id}`);
  return el as T;
}

type TextKey = { [K in keyof typeof TEXT]: (typeof TEXT)[K] extends string ? K : never }[keyof typeof TEXT];

/** Fills [data-text] elements' text and [data-label] elements' tooltip and accessible name. */
function applyTexts(root: ParentNode): void {
  root.querySelectorAll<HTMLElement>('[data-text]').forEach((el) => (el.textContent = TEXT[el.dataset.text as TextKey]));
  root.querySelectorAll<HTMLElement>('[data-label]').forEach((el) => setLabel(el, TEXT[el.dataset.label as TextKey]));
}

function setLabel(el: HTMLElement, label: string): void {
  el.title = label;
  el.setAttribute('aria-label', label);
}

export class MirrorView {
  readonly mirrorVideo = byId<HTMLVideoElement>('mirror-video');
  readonly cameraVideo = byId<HTMLVideoElement>('camera-video');
  readonly cameraSelect = byId<HTMLSelectElement>('camera-select');
  readonly statsPanel = byId<HTMLElement>('stats');
  readonly startStopButton = byId<HTMLButtonElement>('start-stop');
  readonly muteButton = byId<HTMLButtonElement>('mute');
  readonly snapshotButton = byId<HTMLButtonElement>('snapshot');
  readonly statsButton = byId<HTMLButtonElement>('stats-toggle');
  readonly retryButtons = [byId<HTMLButtonElement>('problem-retry'), byId<HTMLButtonElement>('notice-retry')];

  private readonly startStopLabel = byId('start-stop-label');
  private readonly placeholder = byId('placeholder');
  private readonly spinner = byId('spinner');
  private readonly cameraOff = byId('camera-off');
  private readonly problemCard = byId('problem');
  private readonly notice = byId('notice');
  private readonly flashLayer = byId('flash');
  private readonly status = byId('status');
  private readonly statusText = byId('status-text');

  constructor() {
    document.title = TEXT.appName;
    applyTexts(document);
  }

  render(m: ViewModel): void {
    const blocked = !!m.problem;
    this.startStopButton.dataset.state = m.state;
    this.startStopLabel.textContent = m.state === 'idle' ? TEXT.start : m.state === 'starting' ? TEXT.starting : TEXT.stop;
    // As in the tutorial, nothing can be pressed while starting (the spinner shows instead).
    this.startStopButton.disabled = m.state === 'starting';

    this.placeholder.hidden = m.state !== 'idle' || blocked;
    this.spinner.hidden = m.state === 'idle' || m.live || blocked;
    this.cameraOff.hidden = m.state !== 'idle' || m.cameraPreview;
    this.snapshotButton.disabled = !m.live;

    this.showProblem(this.problemCard, 'problem', m.problem);
    this.showProblem(this.notice, 'notice', blocked ? undefined : m.notice);

    this.status.dataset.tone = m.status.tone;
    this.statusText.textContent = m.status.text;

    this.mirrorVideo.muted = m.muted;
    this.muteButton.setAttribute('aria-pressed', String(!m.muted));
    setLabel(this.muteButton, m.muted ? TEXT.unmute : TEXT.mute);
    this.statsButton.setAttribute('aria-pressed', String(m.statsShown));
    setLabel(this.statsButton, m.statsShown ? TEXT.hideStats : TEXT.showStats);
  }

  /** A brief white flash over the mirror, as a camera shutter. */
  flash(): void {
    this.flashLayer.classList.remove('flash-on');
    void this.flashLayer.offsetWidth; // restart the CSS animation
    this.flashLayer.classList.add('flash-on');
  }

  private showProblem(container: HTMLElement, idPrefix: string, problem: ShownProblem | undefined): void {
    container.hidden = !problem;
    if (!problem) return;
    container.dataset.problem = problem.code;
    byId(`${idPrefix}-title`).textContent = problem.title;
    byId(`${idPrefix}-hint`).textContent = problem.hint;
    byId(`${idPrefix}-retry`).hidden = !problem.retry;
  }
}
