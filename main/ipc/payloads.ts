/**
 * The schema of every IPC request, per channel of common/ipc-contract.ts. Strict: no extra
 * fields, no type coercion, bounded strings. The mapped type makes a new channel without a
 * schema a compile error.
 */
import type { InvokeChannel, InvokeRequest } from '../../common/ipc-contract.js';
import { ICE_CANDIDATE_LIMITS, type ClientMessage } from '../../common/mirror-protocol.js';
import { WEB_DEFAULTS } from '../defaults.js';
import { kmsUriSchema } from '../settings/schema.js';
import { isPlainObject, literal, nothing, nullable, number, object, optional, string, variant, type Schema } from '../validation/schema.js';

/**
 * What each handler receives. settings:set gets any plain object: its fields are checked by
 * the settings store, which answers with per-field problems for the Settings page.
 */
export type HandlerInput<C extends InvokeChannel> = C extends 'settings:set' ? Record<string, unknown> : InvokeRequest<C>;

const linkId = number({ min: 1, max: Number.MAX_SAFE_INTEGER, integer: true });

export const CLIENT_MESSAGE: Schema<ClientMessage> = variant('id', {
  // An SDP offer is 3–20 kB; the web mode's message limit bounds it here too.
  start: object({ id: literal('start'), sdpOffer: string({ min: 1, max: WEB_DEFAULTS.maxMessageBytes }), statusEvents: optional(literal(true, false)) }),
  onIceCandidate: object({
    id: literal('onIceCandidate'),
    candidate: object({
      // '' is the end-of-candidates marker.
      candidate: string({ max: ICE_CANDIDATE_LIMITS.candidateChars }),
      sdpMid: optional(nullable(string({ max: ICE_CANDIDATE_LIMITS.sdpMidChars }))),
      sdpMLineIndex: optional(nullable(number({ min: 0, max: ICE_CANDIDATE_LIMITS.maxMLineIndex, integer: true }))),
    }),
  }),
  stop: object({ id: literal('stop') }),
});

const plainObject: Schema<Record<string, unknown>> = {
  check: (v, path = '') => (isPlainObject(v) ? { ok: true, value: v } : { ok: false, problems: [{ path, message: 'must be an object' }] }),
};

export const REQUEST_SCHEMAS: { [C in InvokeChannel]: Schema<HandlerInput<C>> } = {
  'mirror:connect': nothing(),
  'mirror:send': object({ linkId, message: CLIENT_MESSAGE }),
  'mirror:disconnect': object({ linkId }),
  'settings:get': nothing(),
  'settings:set': plainObject,
  'settings:test-connection': object({
    // Checked and normalised like the saved setting: the probe connects to what would be stored.
    kmsUri: kmsUriSchema(2048),
    timeoutMs: number({ min: 500, max: 60_000, integer: true }),
  }),
  'notices:list': nothing(),
  'notices:dismiss': object({ id: string({ min: 1, max: 64 }) }),
};
