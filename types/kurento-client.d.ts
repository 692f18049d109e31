/**
 * The slice of kurento-client 7.2.0 (no typings of its own) this project uses. Methods
 * return promises when called without a callback.
 */
declare module 'kurento-client' {
  import type { EventEmitter } from 'node:events';

  namespace kurento {
    interface MediaObject extends EventEmitter {
      readonly id: string;
      release(): Promise<void>;
      getName(): Promise<string>;
    }
    interface MediaElement extends MediaObject {
      connect(sink: MediaElement, mediaType?: 'AUDIO' | 'VIDEO' | 'DATA'): Promise<void>;
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
      generateOffer(): Promise<string>;
      processAnswer(answer: string): Promise<string>;
      gatherCandidates(): Promise<void>;
      addIceCandidate(candidate: IceCandidate): Promise<void>;
      setStunServerAddress(address: string): Promise<void>;
      setStunServerPort(port: number): Promise<void>;
      setTurnUrl(url: string): Promise<void>;
    }
    interface FaceOverlayFilter extends MediaElement {
      setOverlayedImage(uri: string, offsetXPercent: number, offsetYPercent: number, widthPercent: number, heightPercent: number): Promise<void>;
      unsetOverlayedImage(): Promise<void>;
    }
    interface MediaPipeline extends MediaObject {
      create(type: 'WebRtcEndpoint'): Promise<WebRtcEndpoint>;
      create(type: 'FaceOverlayFilter'): Promise<FaceOverlayFilter>;
      create(type: string, params?: Record<string, unknown>): Promise<MediaElement>;
    }
    interface ServerManager extends MediaObject {
      getInfo(): Promise<{ version: string; type: string; modules: { name: string; version: string; factories: string[] }[] }>;
      getPipelines(): Promise<MediaPipeline[]>;
      getSessions(): Promise<string[]>;
      getMetadata(): Promise<string>;
    }
    interface ClientOptions {
      socket?: { objectMode?: boolean };
      failAfter?: number;
      request_timeout?: number;
      response_timeout?: number;
      duplicates_timeout?: number;
      enableTransactions?: boolean;
    }
    interface KurentoClient extends EventEmitter {
      readonly sessionId?: string;
      create(type: 'MediaPipeline'): Promise<MediaPipeline>;
      getServerManager(): Promise<ServerManager>;
      getMediaobjectById(id: string): Promise<MediaObject>;
      close(): void;
    }
    function getComplexType(name: 'IceCandidate'): (c: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null }) => IceCandidate;
    function getComplexType(name: string): (value: object) => unknown;
  }

  function kurento(uri: string, options?: kurento.ClientOptions): Promise<kurento.KurentoClient>;
  export = kurento;
}
