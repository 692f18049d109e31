/**
 * A pretend Kurento pipeline for renderer tests: a page in the test's Chromium whose
 * RTCPeerConnection answers the mirror page's SDP offer (trickling its ICE candidates) and
 * sends the camera back — through a canvas that draws a hat over given face boxes with the
 * tutorial's offsets, so a running mirror looks like the real thing. There is no face
 * detection: the boxes are fixed (TWO_FACES_BOXES fits makeY4m's 'two-faces' clip).
 *
 *   const echo = await EchoPeer.open(chromium, `${server.url}/echo.html`, `${server.url}/hat.png`);
 *   const sdpAnswer = await echo.answer(sdpOffer, (candidate) => sendToPage(candidate));
 *   await echo.addIceCandidate(candidateFromPage);
 *   await echo.hangUp();
 *
 * Its answer puts the returned tracks in no stream (a=msid:- <track>), as the engine's wrtc
 * peer does, unlike Kurento: the page must show them anyway (see MirrorSession).
 *
 * Pitfalls:
 * - The echo page asks for the (fake) camera once: Chromium hides host addresses behind mDNS
 *   names from pages without camera access, and those names do not resolve here.
 * - The page script is passed as a string: tsx compiles functions passed to page.evaluate
 *   with a __name helper that does not exist in the browser.
 */
import type { Page } from 'playwright-core';
import type { IceCandidateJson } from '../../common/mirror-protocol.js';
import type { ChromiumHandle } from './chromium.js';

export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Where engine/vision's detector finds the two faces of makeY4m({ background: 'two-faces' }) at 640×480. */
export const TWO_FACES_BOXES: FaceBox[] = [
  { x: 425, y: 117, width: 63, height: 63 },
  { x: 109, y: 121, width: 58, height: 58 },
];

const PAGE_SCRIPT = String.raw`
window.echo = (() => {
  let pc = null;
  let pending = [];
  let camera = null;

  function withHats(track, hatUrl, boxes) {
    const video = document.createElement('video');
    video.muted = true;
    video.srcObject = new MediaStream([track]);
    video.play();
    const canvas = document.createElement('canvas');
    canvas.width = 640;
    canvas.height = 480;
    const ctx = canvas.getContext('2d');
    const hat = new Image();
    hat.src = hatUrl;
    const draw = () => {
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      if (hat.complete) {
        for (const b of boxes) ctx.drawImage(hat, b.x - 0.35 * b.width, b.y - 1.2 * b.height, 1.6 * b.width, 1.6 * b.height);
      }
      video.requestVideoFrameCallback(draw);
    };
    video.requestVideoFrameCallback(draw);
    return canvas.captureStream(30).getVideoTracks()[0];
  }

  return {
    async answer(offer, hatUrl, boxes, returnVideo) {
      pc?.close();
      camera ??= await navigator.mediaDevices.getUserMedia({ video: true });
      pc = new RTCPeerConnection({ iceServers: [] });
      pc.onicecandidate = (e) => { if (e.candidate) window.echoCandidate(e.candidate.toJSON()); };
      pc.ontrack = (e) => {
        e.transceiver.direction = 'sendrecv';
        const video = e.track.kind === 'video';
        const back = video && !returnVideo ? null : video && hatUrl ? withHats(e.track, hatUrl, boxes) : e.track;
        e.transceiver.sender.replaceTrack(back);
      };
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      for (const c of pending) await pc.addIceCandidate(c);
      pending = [];
      await pc.setLocalDescription(await pc.createAnswer());
      return pc.localDescription.sdp;
    },
    async addIceCandidate(candidate) {
      if (pc?.remoteDescription) await pc.addIceCandidate(candidate);
      else pending.push(candidate);
    },
    hangUp() {
      pc?.close();
      pc = null;
      pending = [];
    },
  };
})();
`;

export class EchoPeer {
  private onCandidate: (candidate: IceCandidateJson) => void = () => {};

  private constructor(private readonly page: Page, private readonly hatUrl: string | undefined, private readonly boxes: FaceBox[]) {}

  /** Opens the echo page at pageUrl (any page of a secure origin); hatUrl: a PNG it can load. */
  static async open(chromium: ChromiumHandle, pageUrl: string, hatUrl?: string, boxes = TWO_FACES_BOXES): Promise<EchoPeer> {
    const page = await chromium.page(pageUrl);
    const echo = new EchoPeer(page, hatUrl, boxes);
    await page.exposeFunction('echoCandidate', (candidate: IceCandidateJson) => echo.onCandidate(candidate));
    await page.evaluate(PAGE_SCRIPT);
    return echo;
  }

  /**
   * Answers the offer (hanging up any earlier call); the echo's candidates go to onCandidate.
   * returnVideo false: connect, but send no video back (a pipeline whose media does not flow).
   */
  answer(sdpOffer: string, onCandidate: (candidate: IceCandidateJson) => void, returnVideo = true): Promise<string> {
    this.onCandidate = onCandidate;
    return this.page.evaluate(
      ([offer, hatUrl, boxes, video]) => (window as unknown as EchoWindow).echo.answer(offer, hatUrl, boxes, video),
      [sdpOffer, this.hatUrl, this.boxes, returnVideo] as const,
    );
  }

  addIceCandidate(candidate: IceCandidateJson): Promise<void> {
    return this.page.evaluate((c) => (window as unknown as EchoWindow).echo.addIceCandidate(c), candidate);
  }

  hangUp(): Promise<void> {
    this.onCandidate = () => {};
    return this.page.evaluate(() => (window as unknown as EchoWindow).echo.hangUp());
  }
}

interface EchoWindow {
  echo: {
    answer(offer: string, hatUrl: string | undefined, boxes: FaceBox[], returnVideo: boolean): Promise<string>;
    addIceCandidate(candidate: IceCandidateJson): Promise<void>;
    hangUp(): void;
  };
}
