/**
 * A minimal browser page for engine tests driven from Node: it offers its fake camera and
 * microphone, shows what comes back in <video id="remote">, and exposes the signalling steps
 * (makeOffer, setAnswer, addCandidate — the server's candidates may arrive before its answer,
 * so they are kept until it is set) and peerState for diagnostics. Local candidates go to the
 * page binding `onLocalCandidate`, which the test exposes. `extraScript` adds page helpers.
 */
export function loopbackPage(extraScript = ''): string {
  return `<!doctype html>
<meta charset="utf-8">
<style>body{margin:0;background:#111}</style>
<video id="remote" autoplay playsinline muted width="640" height="480"></video>
<script>
  const pc = new RTCPeerConnection();
  const remote = new MediaStream();
  let pending = [];
  pc.onicecandidate = (e) => { if (e.candidate) window.onLocalCandidate(e.candidate.toJSON()); };
  pc.ontrack = (e) => { remote.addTrack(e.track); document.querySelector('#remote').srcObject = remote; };
  window.makeOffer = async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: true });
    stream.getTracks().forEach((t) => pc.addTrack(t, stream));
    await pc.setLocalDescription(await pc.createOffer());
    return pc.localDescription.sdp;
  };
  window.setAnswer = async (sdp) => {
    await pc.setRemoteDescription({ type: 'answer', sdp });
    for (const c of pending) await pc.addIceCandidate(c);
    pending = null;
  };
  window.addCandidate = (c) => (pending ? pending.push(c) : pc.addIceCandidate(c));
  window.peerState = () => ({ ice: pc.iceConnectionState, conn: pc.connectionState, signaling: pc.signalingState, receivers: pc.getReceivers().map((r) => r.track.kind + ':' + r.track.readyState), remote: pc.remoteDescription && pc.remoteDescription.sdp });
${extraScript}
</script>`;
}
