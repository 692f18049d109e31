/**
 * The mirror page's controller: Start/Stop through the tutorial's three states, the link to
 * the server, the camera choice, and which problem the person sees. Problems come from the
 * server (error and status messages), from the camera, and from the session's own watching;
 * the page shows one at a time: the oldest blocking one, else the newest notice.
 */
import { CameraError, openCamera } from './camera.js';
import { CameraPicker } from './camera-picker.js';
import { CameraPreview } from './camera-preview.js';
import { PROBLEMS, TEXT, type ProblemText } from './messages.js';
import { MirrorSession, type SessionEvents } from './mirror-session.js';
import { saveSnapshot } from './snapshot.js';
import { StatsOverlay } from './stats-overlay.js';
import { markStart, markStep } from './timing.js';
import type { ConnectTransport, MirrorTransport } from './transport/transport.js';
import type { MirrorView, ShownProblem, ViewModel } from './view.js';

const SNAPSHOT_NOTE_MS = 2500;

/** What an observer (kiosk mode's auto-recovery, renderer/kiosk.ts) hears about the mirror. */
export type MirrorAppEvent =
  | { kind: 'live' }
  /** The mirror ended (or could not start) by itself, with the problem shown ('stop' never comes here). */
  | { kind: 'stopped'; problem: string | undefined }
  | { kind: 'problem'; problem: string }
  | { kind: 'problem-cleared'; problem: string }
  | { kind: 'ice'; state: RTCIceConnectionState };

/** Failover starts in a row before the error is shown (each server lost in turn). */
const MAX_FAILOVERS = 3;

export class MirrorApp {
  private readonly model: ViewModel = {
    state: 'idle',
    live: false,
    status: { text: TEXT.status.connecting, tone: 'busy' },
    muted: true,
    statsShown: false,
    cameraPreview: false,
  };
  /** Active problems by code, in the order they appeared. */
  private readonly problems = new Map<string, { shown: ShownProblem; weight: ProblemText['weight'] }>();
  private readonly picker: CameraPicker;
  private readonly preview: CameraPreview;
  private readonly stats: StatsOverlay;
  private transport?: MirrorTransport;
  private session?: MirrorSession;
  /** Bumped by every start and stop, so a start that was overtaken drops its results. */
  private attempt = 0;
  private snapshotNoteTimer = 0;
  private readonly observers = new Set<(event: MirrorAppEvent) => void>();
  /** Starts made in a row because the server said another media server can take the mirror (ErrorMessage.retry). */
  private failovers = 0;

  constructor(private readonly view: MirrorView, private readonly connect: ConnectTransport) {
    this.picker = new CameraPicker(view.cameraSelect, () => this.onCameraChosen());
    this.preview = new CameraPreview(view.cameraVideo, (on) => this.update({ cameraPreview: on }));
    this.stats = new StatsOverlay(view.statsPanel, view.mirrorVideo);
    view.startStopButton.addEventListener('click', () => (this.model.state === 'idle' ? void this.start() : this.stop()));
    view.retryButtons.forEach((b) => b.addEventListener('click', () => this.retry()));
    view.muteButton.addEventListener('click', () => this.update({ muted: !this.model.muted }));
    view.statsButton.addEventListener('click', () => {
      this.stats.setVisible(!this.model.statsShown);
      this.update({ statsShown: !this.model.statsShown });
    });
    view.snapshotButton.addEventListener('click', () => void this.snapshot());
  }

  /** Like the tutorial, connects as soon as the page opens, so a dead server shows at once. */
  async init(): Promise<void> {
    this.render();
    void this.picker.refresh();
    void this.openPreview();
    if (await this.ensureTransport()) this.update({ status: { text: TEXT.status.ready, tone: 'idle' } });
  }

  /** The tutorial's start(): I_AM_STARTING, then the camera, then the offer. */
  async start(): Promise<void> {
    if (this.model.state !== 'idle') return;
    const attempt = ++this.attempt;
    markStart();
    this.problems.clear();
    this.update({ state: 'starting', live: false, status: { text: TEXT.status.connecting, tone: 'busy' } });

    const transport = await this.ensureTransport();
    if (attempt !== this.attempt) return;
    if (!transport) {
      this.update({ state: 'idle' });
      return this.emit({ kind: 'stopped', problem: 'server-unreachable' });
    }

    this.update({ status: { text: TEXT.status.startingCamera, tone: 'busy' } });
    let camera: MediaStream;
    try {
      camera = (await this.preview.take(this.picker.deviceId)) ?? (await openCamera(this.picker.deviceId));
    } catch (error) {
      if (attempt !== this.attempt) return;
      const problem = error instanceof CameraError ? error.problem : 'camera-failed';
      this.addProblem(problem);
      this.update({ state: 'idle', status: { text: TEXT.status.stopped, tone: 'error' } });
      return this.emit({ kind: 'stopped', problem });
    }
    if (attempt !== this.attempt) return camera.getTracks().forEach((t) => t.stop());
    markStep('camera');
    void this.picker.refresh(); // names are visible now that the camera is allowed

    this.update({ status: { text: TEXT.status.negotiating, tone: 'busy' } });
    this.session = new MirrorSession({
      transport,
      camera,
      cameraVideo: this.view.cameraVideo,
      mirrorVideo: this.view.mirrorVideo,
      events: this.sessionEvents(),
    });
    this.stats.setPeerConnection(this.session.peerConnection);
  }

  /** Hears what happens to the mirror (kiosk mode). */
  observe(observer: (event: MirrorAppEvent) => void): void {
    this.observers.add(observer);
  }

  /** Starts the mirror afresh (stopping what runs), as "Try again" does. */
  restart(): void {
    this.retry();
  }

  /**
   * Drops the link and opens a new one (the desktop app's saved settings apply to links opened
   * afterwards); a mirror that was on starts again on the new link.
   */
  async reconnect(): Promise<void> {
    const wasOn = this.model.state !== 'idle';
    if (wasOn) this.stop();
    const old = this.transport;
    this.transport = undefined;
    old?.close();
    if (wasOn) return this.start();
    if (await this.ensureTransport()) this.update({ status: { text: TEXT.status.ready, tone: 'idle' } });
  }

  /** The camera to use from the next start on ('' for the system default), as the desktop app's settings say. */
  useCamera(deviceId: string): Promise<void> {
    return this.picker.prefer(deviceId);
  }

  /** The tutorial's stop(): back to I_CAN_START. */
  stop(): void {
    this.attempt++;
    this.failovers = 0;
    this.preview.close();
    this.session?.stop();
    this.endSession();
    this.problems.clear();
    this.update({ status: { text: TEXT.status.stopped, tone: 'idle' } });
  }

  private retry(): void {
    if (this.model.state !== 'idle') this.stop();
    void this.start();
  }

  private onCameraChosen(): void {
    if (this.model.state !== 'idle') return this.retry();
    if (this.model.cameraPreview) {
      this.preview.close();
      void this.openPreview();
    }
  }

  /** The camera shown from the moment the page opens, if the person allowed it before (camera-preview.ts). */
  private async openPreview(): Promise<void> {
    await this.preview.open(this.picker.deviceId);
    if (this.model.cameraPreview) void this.picker.refresh(); // names are visible now that the camera is open
  }

  private async snapshot(): Promise<void> {
    if (!(await saveSnapshot(this.view.mirrorVideo))) return;
    this.view.flash();
    // "Snapshot saved" for a moment, then back to whatever the status was.
    const before = this.model.status;
    const note = { text: TEXT.status.snapshotSaved, tone: 'live' } as const;
    this.update({ status: note });
    clearTimeout(this.snapshotNoteTimer);
    this.snapshotNoteTimer = window.setTimeout(() => this.model.status === note && this.update({ status: before }), SNAPSHOT_NOTE_MS);
  }

  private sessionEvents(): SessionEvents {
    return {
      waiting: (what) => {
        if (this.model.state === 'starting') this.update({ status: { text: what === 'engine' ? TEXT.status.startingEngine : TEXT.status.connectingMediaServer, tone: 'busy' } });
      },
      mediaServers: (current, servers) => this.stats.setMediaServers(current, servers),
      answered: () => this.update({ state: 'running', status: { text: TEXT.status.waitingForVideo, tone: 'busy' } }),
      firstFrame: () => {
        this.failovers = 0;
        this.update({ live: true, status: { text: TEXT.status.live, tone: 'live' } });
        this.emit({ kind: 'live' });
      },
      iceState: (state) => {
        this.emit({ kind: 'ice', state });
        if (state === 'disconnected') this.update({ status: { text: TEXT.status.unstable, tone: 'warn' } });
        else if (state === 'connected' && this.model.live) this.update({ status: { text: TEXT.status.live, tone: 'live' } });
      },
      problem: (problem, serverMessage) => {
        this.addProblem(problem, serverMessage);
        this.render();
        this.emit({ kind: 'problem', problem });
      },
      problemCleared: (problem) => {
        this.problems.delete(problem);
        this.render();
        this.emit({ kind: 'problem-cleared', problem });
      },
      ended: (why) => {
        this.endSession();
        if ('stoppedReason' in why) {
          this.update({ status: { text: TEXT.status.stoppedByServer(why.stoppedReason), tone: 'warn' } });
          this.emit({ kind: 'stopped', problem: why.stoppedReason });
        } else if (why.retry && this.failovers < MAX_FAILOVERS) {
          // Its media server is gone and another can take the mirror: start again at once, no dead end.
          this.failovers++;
          void this.start();
        } else {
          this.failovers = 0;
          this.addProblem(why.problem, why.serverMessage);
          this.update({ status: { text: TEXT.status.stopped, tone: 'error' } });
          this.emit({ kind: 'stopped', problem: why.problem });
        }
      },
    };
  }

  /** The open link, or a new one; undefined (with the problem shown) if the server is away. */
  private async ensureTransport(): Promise<MirrorTransport | undefined> {
    if (this.transport) return this.transport;
    try {
      const transport = await this.connect();
      transport.onClose(() => this.onTransportClosed());
      this.transport = transport;
      this.problems.delete('server-unreachable');
      return transport;
    } catch {
      this.addProblem('server-unreachable');
      this.update({ status: { text: TEXT.status.serverUnreachable, tone: 'error' } });
      return undefined;
    }
  }

  private onTransportClosed(): void {
    this.transport = undefined;
    this.attempt++;
    this.session?.dispose();
    this.endSession();
    this.addProblem('server-unreachable');
    this.update({ status: { text: TEXT.status.serverUnreachable, tone: 'error' } });
    this.emit({ kind: 'stopped', problem: 'server-unreachable' });
  }

  private endSession(): void {
    this.session = undefined;
    this.stats.setPeerConnection(undefined);
    this.model.state = 'idle';
    this.model.live = false;
  }

  /**
   * Notes a problem. A server's message is shown only when the page has no text of its own for
   * the code (no code, or one from a newer server): it is written for people too.
   */
  private addProblem(problem: string | undefined, serverMessage?: string): void {
    const code = problem ?? 'server-error';
    const known: ProblemText | undefined = (PROBLEMS as Record<string, ProblemText>)[code];
    const { title, hint, retry, weight } = known ?? { ...PROBLEMS.internal, hint: serverMessage ?? PROBLEMS.internal.hint };
    this.problems.delete(code); // re-added last: the newest notice wins
    this.problems.set(code, { shown: { code, title, hint, retry }, weight });
  }

  private emit(event: MirrorAppEvent): void {
    for (const observer of this.observers) observer(event);
  }

  private update(changes: Partial<ViewModel>): void {
    Object.assign(this.model, changes);
    // While a failover start runs, every step of it reads "Reconnecting…".
    if (this.failovers > 0 && this.model.status.tone === 'busy') this.model.status = { text: TEXT.status.reconnecting, tone: 'busy' };
    this.render();
  }

  private render(): void {
    const active = [...this.problems.values()];
    this.model.problem = active.find((p) => p.weight === 'blocking')?.shown;
    this.model.notice = active.filter((p) => p.weight === 'notice').at(-1)?.shown;
    this.view.render(this.model);
  }
}
