/**
 * Mutated JSON-RPC for fuzzing a Kurento server: messages taken from real kurento-client
 * traffic (the recorded KMS session in test/fixtures/kms-trace.jsonl) and mutated (values
 * replaced or deleted, methods swapped, truncated, garbage inserted, two messages concatenated,
 * ids dropped, deep nesting). Used by test/engine-fuzz.test.ts and bench/soak.ts.
 *
 *   const rand = prng(seed);                      // a printed seed replays a run
 *   const r = await fuzzBatch(uri, rand, 1000);   // sends, waits for the replies, counts them
 *   // every id in r.expected must have exactly that many replies in r.replies
 */
import { readFileSync } from 'node:fs';
import { connectRaw, type Reply } from './rpc-client.js';
import { waitFor } from './wait.js';

/** A small deterministic PRNG (mulberry32), so a printed seed replays the same run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Json = Record<string, any>;

/** The client→server messages of the recorded real-KMS session (test/fixtures/kms-trace.jsonl). */
export const recorded: Json[] = readFileSync(new URL('../fixtures/kms-trace.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l))
  .filter((r) => r.dir === 'c2s')
  .map((r) => r.msg);

const WEIRD_VALUES = [null, 0, -1, 1e308, '', 'x'.repeat(1000), [], {}, true, { __proto__: { polluted: 1 } }, 'newref:99', 'manager_ServerManager', '../../etc/passwd', '\u0000\uffff'];

export function mutate(msg: Json, rand: () => number): { text: string; expectId?: number | string; expectParseError?: boolean } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const m: Json = structuredClone(msg);
  const paths: string[][] = [];
  const walk = (o: unknown, p: string[]) => {
    if (o && typeof o === 'object') for (const k of Object.keys(o)) (paths.push([...p, k]), walk((o as Json)[k], [...p, k]));
  };
  walk(m, []);
  const setPath = (p: string[], v: unknown) => {
    let o: Json = m;
    for (const k of p.slice(0, -1)) o = o[k];
    if (v === undefined) delete o[p[p.length - 1]!];
    else o[p[p.length - 1]!] = v;
  };
  const kind = pick(['replace', 'replace', 'delete', 'method', 'truncate', 'garbage', 'concat', 'notification', 'deep']);
  switch (kind) {
    case 'replace':
      setPath(pick(paths), pick(WEIRD_VALUES));
      break;
    case 'delete':
      setPath(pick(paths), undefined);
      break;
    case 'method':
      m.method = pick(['create', 'invoke', 'release', 'subscribe', 'unsubscribe', 'describe', 'transaction', 'connect', 'ping', 'nope', 'closeSession']);
      break;
    case 'notification':
      delete m.id;
      break;
    case 'deep': {
      let nested: Json = {};
      const root = nested;
      for (let i = 0; i < 200; i++) nested = nested.a = {};
      setPath(pick(paths), root);
      break;
    }
  }
  const text = JSON.stringify(m);
  if (kind === 'truncate') return { text: text.slice(0, Math.floor(rand() * (text.length - 1))), expectParseError: true };
  if (kind === 'garbage') {
    const at = Math.floor(rand() * text.length);
    return { text: `${text.slice(0, at)}\u0001}{]${text.slice(at)}` };
  }
  if (kind === 'concat') {
    const other = { ...pick(recorded), id: `c${m.id}` };
    return { text: text + JSON.stringify(other) };
  }
  const validRequest = m.jsonrpc === '2.0' && typeof m.method === 'string' && (typeof m.id === 'number' || typeof m.id === 'string');
  return { text, expectId: validRequest ? m.id : undefined };
}

export interface FuzzBatchResult {
  /** Request ids that must be answered, with how many requests carried each. */
  expected: Map<number | string, number>;
  /** Replies received per id (the final 'end' ping excluded). */
  replies: Map<unknown, number>;
  /** Replies with id null and code -32700 (unparsable text). */
  parseErrors: number;
  /** Error replies whose error is not {code: integer, message: string}. */
  malformedErrors: Reply[];
  /** Ids whose reply count differs from the requests that carried them. */
  mismatches: Array<{ id: number | string; replies: number; expected: number }>;
}

/**
 * Sends `count` mutated messages on one fresh connection, then a ping marking the end, waits
 * for a reply to every request (replies are sent in order per frame, but handlers may await)
 * and `settleMs` more for stray duplicates, closes the connection and counts.
 * Rejects if some request got no reply within timeoutMs.
 */
export async function fuzzBatch(uri: string, rand: () => number, count: number, opts: { settleMs?: number; timeoutMs?: number } = {}): Promise<FuzzBatchResult> {
  const c = await connectRaw(uri);
  try {
    const expected = new Map<number | string, number>();
    for (let i = 0; i < count; i++) {
      // Ids from 1000: a mutation may give an invalid message one of WEIRD_VALUES (0, -1, …) as
      // its id, which the server may echo in its error; that must not look like a second reply.
      const base = { ...recorded[Math.floor(rand() * recorded.length)]!, id: 1000 + i };
      const { text, expectId } = mutate(base, rand);
      if (expectId !== undefined) expected.set(expectId, (expected.get(expectId) ?? 0) + 1);
      c.send(text);
    }
    await c.request('ping', {}, 'end');
    const answered = () => {
      const ids = new Set(c.received.filter((r) => !r.method).map((r) => r.id));
      return [...expected.keys()].every((id) => ids.has(id));
    };
    await waitFor(answered, opts.timeoutMs ?? 30_000, 'a reply to every request');
    await new Promise((r) => setTimeout(r, opts.settleMs ?? 500));

    const replies = new Map<unknown, number>();
    for (const r of c.received) if (!r.method && r.id !== null && r.id !== 'end') replies.set(r.id, (replies.get(r.id) ?? 0) + 1);
    const mismatches = [...expected]
      .filter(([id, n]) => replies.get(id) !== n)
      .map(([id, n]) => ({ id, replies: replies.get(id) ?? 0, expected: n }));
    return {
      expected,
      replies,
      parseErrors: c.received.filter((r) => r.id === null && r.error?.code === -32700).length,
      malformedErrors: c.received.filter((r) => r.error && !(Number.isInteger(r.error.code) && typeof r.error.message === 'string')),
      mismatches,
    };
  } finally {
    await c.close();
  }
}
