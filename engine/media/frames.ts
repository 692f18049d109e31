/**
 * The media graph's currency: decoded frames as @roamhq/wrtc's nonstandard
 * RTCVideoSink / RTCAudioSink deliver them and RTCVideoSource / RTCAudioSource take them.
 */

/** One I420 video frame: Y plane (width*height) then U and V planes (ceil(w/2)*ceil(h/2) each). */
export interface VideoFrame {
  width: number;
  height: number;
  data: Uint8Array;
}

/** 10 ms of 16-bit PCM audio, interleaved. */
export interface AudioFrame {
  samples: Int16Array;
  sampleRate: number;
  bitsPerSample: 16;
  channelCount: number;
  numberOfFrames: number;
}

export type MediaKind = 'AUDIO' | 'VIDEO';

/** Byte length of an I420 frame of the given size (RTCVideoSource.onFrame throws on any other). */
export function i420Size(width: number, height: number): number {
  return width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
}
