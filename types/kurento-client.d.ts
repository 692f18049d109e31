/**
 * The slice of kurento-client 7.2.0 (no typings of its own) this project uses. Methods
 * return promises when called without a callback.
 *
 * Pitfalls of 7.2.0 (measured; main/kms/kms-connection.ts works around them):
 * - The promise form of an `invoke` (processOffer, gatherCandidates, connect, release, …)
 *   SWALLOWS errors: the library's default callback logs them with console.trace and the
 *   promise resolves with undefined. Pass a callback to see errors.
 * - Media objects (and the client) are thenables: awaiting one, or resolving a promise with
 *   it, yields a detached copy (Object.assign) that shares the original's listener table
 *   only until that table is replaced. `create(type, callback)` returns the original.
 * - A failed event subscription emits 'error' on the media object; with no listener that
 *   throws inside a promise callback (an unhandled rejection), and `on('error')` itself
 *   throws ("doesn't accept events of type 'error'").
 */
declare module 'kurento-client' {
  import type { EventEmitter } from 'node:events';

  namespace kurento {
    type Callback<T> = (error: (Error & { code?: number }) | null | undefined, result: T) => void;

    interface MediaObject extends EventEmitter {
      readonly id: string;
      release(): Promise<void>;
      release(callback: Callback<void>): void;
      getName(): Promise<string>;
      addTag(key: string, value: string): Promise<void>;
      addTag(key: string, value: string, callback: Callback<void>): void;
    }
    interface MediaElement extends MediaObject {
      connect(sink: MediaElement, mediaType?: 'AUDIO' | 'VIDEO' | 'DATA'): Promise<void>;
      connect(sink: MediaElement, callback: Callback<void>): void;
      disconnect(sink: MediaElement, mediaType?: 'AUDIO' | 'VIDEO' | 'DATA'): Promise<void>;
      isMediaFlowingIn(mediaType: 'AUDIO' | 'VIDEO'): Promise<boolean>;
      isMediaFlowingOut(mediaType: 'AUDIO' | 'VIDEO'): Promise<boolean>;
      getStats(mediaType?: 'AUDIO' | 'VIDEO'): Promise<Record<string, Record<string, unknown>>>;
    }
    interface IceCandidate {
      candidate: string;
      sdpMid: string;
      sdpMLineIndex: number;
    }
    interface WebRtcEndpoint extends MediaElement {
      processOffer(offer: string): Promise<string>;
      processOffer(offer: string, callback: Callback<string>): void;
      generateOffer(): Promise<string>;
      processAnswer(answer: string): Promise<string>;
      gatherCandidates(): Promise<void>;
      gatherCandidates(callback: Callback<void>): void;
      addIceCandidate(candidate: IceCandidate): Promise<void>;
      addIceCandidate(candidate: IceCandidate, callback: Callback<void>): void;
      setStunServerAddress(address: string): Promise<void>;
      setStunServerAddress(address: string, callback: Callback<void>): void;
      setStunServerPort(port: number): Promise<void>;
      setStunServerPort(port: number, callback: Callback<void>): void;
      setTurnUrl(url: string): Promise<void>;
      setTurnUrl(url: string, callback: Callback<void>): void;
    }
    interface FaceOverlayFilter extends MediaElement {
      setOverlayedImage(uri: string, offsetXPercent: number, offsetYPercent: number, widthPercent: number, heightPercent: number): Promise<void>;
      setOverlayedImage(
        uri: string,
        offsetXPercent: number,
        offsetYPercent: number,
        widthPercent: number,
        heightPercent: number,
        callback: Callback<void>,
      ): void;
      unsetOverlayedImage(): Promise<void>;
    }
    interface MediaPipeline extends MediaObject {
      create(type: 'WebRtcEndpoint'): Promise<WebRtcEndpoint>;
      create(type: 'FaceOverlayFilter'): Promise<FaceOverlayFilter>;
      create(type: string, params?: Record<string, unknown>): Promise<MediaElement>;
      /** These return the (original) object at once; the callback says when the server has made it. */
      create(type: 'WebRtcEndpoint', callback: Callback<WebRtcEndpoint>): WebRtcEndpoint;
      create(type: 'FaceOverlayFilter', callback: Callback<FaceOverlayFilter>): FaceOverlayFilter;
    }
    interface ServerManager extends MediaObject {
      getInfo(): Promise<ServerInfo>;
      getInfo(callback: Callback<ServerInfo>): void;
      getPipelines(): Promise<MediaPipeline[]>;
      getPipelines(callback: Callback<MediaPipeline[]>): void;
      /** Percentage of the server's CPU used over `interval` ms (the call takes that long). */
      getUsedCpu(interval: number, callback: Callback<number>): void;
      getSessions(): Promise<string[]>;
      getMetadata(): Promise<string>;
    }
    interface ServerInfo {
      version: string;
      type: string;
      modules: { name: string; version: string; factories: string[] }[];
    }
    interface ClientOptions {
      /** websocket-stream options, also handed to ws 3 (e.g. rejectUnauthorized, handshakeTimeout). */
      socket?: { objectMode?: boolean; [wsOption: string]: unknown };
      /** Check at connect time that the server has the client's modules (default true). */
      strict?: boolean;
      failAfter?: number;
      request_timeout?: number;
      response_timeout?: number;
      duplicates_timeout?: number;
      enableTransactions?: boolean;
    }
    interface KurentoClient extends EventEmitter {
      readonly sessionId?: string;
      create(type: 'MediaPipeline'): Promise<MediaPipeline>;
      create(type: 'MediaPipeline', callback: Callback<MediaPipeline>): MediaPipeline;
      getServerManager(): Promise<ServerManager>;
      getServerManager(callback: Callback<ServerManager>): void;
      getMediaobjectById(id: string): Promise<MediaObject>;
      close(): void;
    }
    function getComplexType(name: 'IceCandidate'): (c: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null }) => IceCandidate;
    function getComplexType(name: string): (value: object) => unknown;
  }

  function kurento(uri: string, options?: kurento.ClientOptions): Promise<kurento.KurentoClient>;
  export = kurento;
}
