/**
 * The slice of kurento-utils 7.3.0 (CommonJS, no typings of its own) the mirror page uses.
 * Its callbacks are called with `this` bound to the WebRtcPeer.
 */
declare module 'kurento-utils' {
  namespace kurentoUtils {
    interface WebRtcPeerOptions {
      localVideo?: HTMLVideoElement;
      remoteVideo?: HTMLVideoElement;
      /** Sent and shown in localVideo; without it kurento-utils calls getUserMedia itself. */
      videoStream?: MediaStream;
      /** Merged over kurento-utils' default { iceServers: freeice() }; arrays replace. */
      configuration?: RTCConfiguration;
      onicecandidate?: (candidate: RTCIceCandidate) => void;
    }
    interface WebRtcPeer {
      readonly peerConnection: RTCPeerConnection;
      generateOffer(callback: (error: unknown, sdpOffer: string) => void): void;
      processAnswer(sdpAnswer: string, callback?: (error?: unknown) => void): void;
      addIceCandidate(candidate: RTCIceCandidateInit, callback?: (error?: unknown) => void): void;
      /** Closes the peer connection, stops the local tracks and detaches both videos. */
      dispose(): void;
    }
    const WebRtcPeer: {
      /** Calls back (this = the peer) once the local tracks are added, or with an error. */
      WebRtcPeerSendrecv(options: WebRtcPeerOptions, callback: (this: WebRtcPeer, error?: unknown) => void): WebRtcPeer;
    };
  }
  export default kurentoUtils;
}
