/**
 * The image decoder's worker thread: one request at a time, `{ id, bytes }` in (transferred),
 * `{ id, width, height, rgba }` or `{ id, error }` out. Decoding a hat can take hundreds of
 * milliseconds; here it never holds up frames or protocol messages.
 */
import { parentPort } from 'node:worker_threads';
import { decodeImage } from './image-decode.js';

export type DecodeRequest = { id: number; bytes: Uint8Array };
export type DecodeReply = { id: number; width: number; height: number; rgba: Uint8Array } | { id: number; error: string };

parentPort?.on('message', ({ id, bytes }: DecodeRequest) => {
  let reply: DecodeReply;
  try {
    const img = decodeImage(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    // A copy of its own: a small image's bytes may sit in a shared pool, which must not be moved.
    const rgba = new Uint8Array(img.rgba);
    reply = { id, width: img.width, height: img.height, rgba };
    parentPort!.postMessage(reply, [rgba.buffer]);
  } catch (err) {
    reply = { id, error: (err as Error).message };
    parentPort!.postMessage(reply);
  }
});
