/**
 * The optional stats panel over the mirror: frames per second actually painted in the mirror
 * <video> (requestVideoFrameCallback), and from RTCPeerConnection.getStats() the round-trip
 * time of the selected ICE candidate pair, the video bitrates both ways and the received size.
 */
import { TEXT } from './messages.js';
import type { MediaServerSummary } from '../common/mirror-protocol.js';

const INTERVAL_MS = 1000;

interface Sample {
  time: number;
  bytesIn: number;
  bytesOut: number;
}

export class StatsOverlay {
  private pc?: RTCPeerConnection;
  private previous?: Sample;
  private frames = 0;
  private frameCallback = 0;
  private timer = 0;
  private lastTick = 0;

  /** With a pool of media servers: the one serving this mirror, and each one's state when it was placed. */
  private servers?: { current: string; servers: MediaServerSummary[] };

  constructor(private readonly panel: HTMLElement, private readonly video: HTMLVideoElement) {}

  setMediaServers(current: string, servers: MediaServerSummary[]): void {
    this.servers = { current, servers };
  }

  get visible(): boolean {
    return !this.panel.hidden;
  }

  /** The peer connection to report on (undefined when the mirror is stopped). */
  setPeerConnection(pc: RTCPeerConnection | undefined): void {
    this.pc = pc;
    this.previous = undefined;
  }

  setVisible(visible: boolean): void {
    this.panel.hidden = !visible;
    clearInterval(this.timer);
    this.video.cancelVideoFrameCallback(this.frameCallback);
    if (!visible) return;
    this.frames = 0;
    this.lastTick = performance.now();
    this.countFrames();
    this.timer = window.setInterval(() => void this.tick(), INTERVAL_MS);
    void this.tick();
  }

  private countFrames = (): void => {
    this.frameCallback = this.video.requestVideoFrameCallback(() => {
      this.frames++;
      this.countFrames();
    });
  };

  private async tick(): Promise<void> {
    const now = performance.now();
    const fps = (this.frames * 1000) / Math.max(1, now - this.lastTick);
    this.frames = 0;
    this.lastTick = now;
    const report = this.pc && this.pc.connectionState !== 'closed' ? await this.pc.getStats().catch(() => undefined) : undefined;
    const stats = report ? readStats(report) : undefined;
    let rates: { in: number; out: number } | undefined;
    if (stats) {
      const sample = { time: now, bytesIn: stats.bytesIn, bytesOut: stats.bytesOut };
      if (this.previous) {
        const seconds = (sample.time - this.previous.time) / 1000;
        rates = { in: (8 * (sample.bytesIn - this.previous.bytesIn)) / seconds, out: (8 * (sample.bytesOut - this.previous.bytesOut)) / seconds };
      }
      this.previous = sample;
    }
    this.render([
      [TEXT.statsFps, stats ? fps.toFixed(1) : '—'],
      [TEXT.statsRtt, stats?.rttSeconds !== undefined ? formatRtt(stats.rttSeconds) : '—'],
      [TEXT.statsIn, rates ? formatBitrate(rates.in) : '—'],
      [TEXT.statsOut, rates ? formatBitrate(rates.out) : '—'],
      [TEXT.statsSize, stats?.size ?? '—'],
      ...(this.servers
        ? ([
            [TEXT.statsServer, this.servers.current],
            [TEXT.statsPool, this.servers.servers.map((s) => TEXT.statsPoolServer(s.uri, s.state, s.mirrors)).join(' · ')],
          ] as [string, string][])
        : []),
    ]);
  }

  private render(rows: [string, string][]): void {
    this.panel.replaceChildren(
      ...rows.flatMap(([label, value]) => {
        const dt = document.createElement('dt');
        const dd = document.createElement('dd');
        dt.textContent = label;
        dd.textContent = value;
        return [dt, dd];
      }),
    );
  }
}

type Stat = RTCStats & Record<string, unknown>;

function readStats(report: RTCStatsReport): { bytesIn: number; bytesOut: number; rttSeconds?: number; size?: string } {
  let bytesIn = 0;
  let bytesOut = 0;
  let size: string | undefined;
  let pairId: string | undefined;
  report.forEach((s: Stat) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') {
      bytesIn += Number(s.bytesReceived ?? 0);
      if (s.frameWidth) size = `${s.frameWidth}×${s.frameHeight}`;
    } else if (s.type === 'outbound-rtp' && s.kind === 'video') {
      bytesOut += Number(s.bytesSent ?? 0);
    } else if (s.type === 'transport') {
      pairId = s.selectedCandidatePairId as string | undefined;
    }
  });
  const pair = pairId ? (report.get(pairId) as Stat | undefined) : undefined;
  const rtt = pair?.currentRoundTripTime;
  return { bytesIn, bytesOut, size, rttSeconds: typeof rtt === 'number' ? rtt : undefined };
}

function formatBitrate(bitsPerSecond: number): string {
  return bitsPerSecond >= 1e6 ? `${(bitsPerSecond / 1e6).toFixed(2)} Mbit/s` : `${Math.round(bitsPerSecond / 1e3)} kbit/s`;
}

function formatRtt(seconds: number): string {
  const ms = seconds * 1000;
  return ms < 1 ? '< 1 ms' : `${Math.round(ms)} ms`;
}
