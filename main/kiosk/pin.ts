/**
 * The staff PIN that guards a kiosk's exit and settings: hashed with scrypt and a random salt,
 * compared in constant time, and rate-limited (MAX_FAILURES wrong PINs in a row lock it for
 * LOCKOUT_MS, doubling with each further lockout up to MAX_LOCKOUT_MS). The counts can be
 * kept across restarts (a LockoutStore: pin-store.ts keeps them in kiosk-pin.json), so pulling
 * the plug does not give a guesser a fresh set of tries.
 *
 * Stored form (one string): `scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>`, so the cost
 * can be raised later without breaking stored PINs. The hash never leaves the main process:
 * a 4–8 digit PIN has at most 10^8 values, so a page that could read the hash could find the
 * PIN offline; only the rate-limited check below is offered to the page.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { PIN_RULES, pinIssue } from '../../common/kiosk-contract.js';

// The rule for a new PIN is shared with the Settings page (common/kiosk-contract.ts).
export { PIN_RULES };

export const MAX_FAILURES = 5;
export const LOCKOUT_MS = 30_000;
export const MAX_LOCKOUT_MS = 15 * 60_000;
/** scrypt cost: N = 2^15 with r = 8 is ~32 MiB and ~0.1 s per check on this project's machines. */
export const SCRYPT_COST = { N: 32768, r: 8, p: 1 } as const;
const KEY_BYTES = 32;
const SALT_BYTES = 16;

function scrypt(pin: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r + 1024 * 1024 };
  return new Promise((resolve, reject) => scryptCb(pin.normalize('NFKC'), salt, KEY_BYTES, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** Why a new PIN is not acceptable, or undefined. */
export function pinProblem(pin: unknown): string | undefined {
  switch (pinIssue(pin)) {
    case 'digits':
      return `must be ${PIN_RULES.minDigits} to ${PIN_RULES.maxDigits} digits`;
    case 'easy':
      return 'is too easy to guess';
    default:
      return undefined;
  }
}

export async function hashPin(pin: string, cost: { N: number; r: number; p: number } = SCRYPT_COST): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scrypt(pin, salt, cost);
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64'), key.toString('base64')].join('$');
}

const STORED = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

/** Whether a stored string is a PIN hash this module made (a damaged one guards nothing). */
export function isPinHash(stored: string): boolean {
  const m = STORED.exec(stored);
  return !!m && Buffer.from(m[5]!, 'base64').length === KEY_BYTES && Number(m[1]) >= 1024 && Number(m[1]) <= 2 ** 20;
}

/**
 * Equality in time that depends only on the length of `expected` (crypto.timingSafeEqual), so
 * how long a wrong guess takes tells nothing about how much of it was right.
 */
export function constantTimeEqual(actual: Buffer, expected: Buffer): boolean {
  // timingSafeEqual throws on different lengths: compare expected with itself instead, and fail.
  if (actual.length !== expected.length) return timingSafeEqual(expected, expected) && false;
  return timingSafeEqual(actual, expected);
}

/** Whether `pin` matches `stored`; compares the hashes in constant time. A malformed `stored` matches nothing. */
export async function verifyPin(pin: string, stored: string): Promise<boolean> {
  const m = STORED.exec(stored);
  if (!m || !isPinHash(stored) || typeof pin !== 'string' || pin.length > 64) return false;
  const expected = Buffer.from(m[5]!, 'base64');
  const actual = await scrypt(pin, Buffer.from(m[4]!, 'base64'), { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) });
  return constantTimeEqual(actual, expected);
}

export type UnlockResult =
  | { ok: true }
  | { ok: false; reason: 'wrong-pin'; attemptsLeft: number }
  | { ok: false; reason: 'locked-out'; retryAfterMs: number }
  | { ok: false; reason: 'no-pin' };

/** The rate limit's counts: wrong PINs since the last lockout, lockouts so far, end of the current one (epoch ms). */
export interface LockoutState {
  failures: number;
  lockouts: number;
  lockedUntil: number;
}

export const NO_LOCKOUT: Readonly<LockoutState> = { failures: 0, lockouts: 0, lockedUntil: 0 };

/** Where the counts live between runs. save() is awaited before a check answers; it should not reject. */
export interface LockoutStore {
  load(): LockoutState;
  save(state: LockoutState): Promise<void>;
}

/** Whether counts read back from a file are ones this module could have written. */
export function isLockoutState(v: unknown): v is LockoutState {
  const o = v as Partial<LockoutState> | null;
  const count = (n: unknown, max: number) => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= max;
  return typeof o === 'object' && o !== null && count(o.failures, MAX_FAILURES - 1) && count(o.lockouts, 64) && count(o.lockedUntil, 8.64e15);
}

/**
 * A stored lockout end seen from now: at most MAX_LOCKOUT_MS away (a clock set back after the
 * lockout must not make it last longer than the longest one).
 */
export function lockoutFromStore(state: LockoutState, now: number): LockoutState {
  return { ...state, lockedUntil: Math.min(state.lockedUntil, now + MAX_LOCKOUT_MS) };
}

/**
 * The rate-limited check. One at a time: a check that is still hashing makes a second one
 * wait its turn, so parallel guesses cannot slip past the failure count. With a LockoutStore,
 * every change of the counts is saved before the check answers.
 */
export class PinGuard {
  #failures = 0;
  #lockouts = 0;
  #lockedUntil = 0;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly stored: () => string | undefined,
    private readonly now: () => number = Date.now,
    private readonly lockoutStore?: LockoutStore,
  ) {
    if (lockoutStore) {
      const s = lockoutFromStore(lockoutStore.load(), now());
      this.#failures = s.failures;
      this.#lockouts = s.lockouts;
      this.#lockedUntil = s.lockedUntil;
    }
  }

  check(pin: string): Promise<UnlockResult> {
    const turn = this.#queue.then(() => this.#check(pin));
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  /** Time left of the current lockout (0: none). */
  lockedForMs(): number {
    return Math.max(0, this.#lockedUntil - this.now());
  }

  async #check(pin: string): Promise<UnlockResult> {
    const stored = this.stored();
    if (!stored) return { ok: false, reason: 'no-pin' };
    const wait = this.lockedForMs();
    if (wait > 0) return { ok: false, reason: 'locked-out', retryAfterMs: wait };
    if (await verifyPin(pin, stored)) {
      const changed = this.#failures !== 0 || this.#lockouts !== 0 || this.#lockedUntil !== 0;
      this.#failures = 0;
      this.#lockouts = 0;
      this.#lockedUntil = 0;
      if (changed) await this.#persist();
      return { ok: true };
    }
    this.#failures++;
    if (this.#failures < MAX_FAILURES) {
      await this.#persist();
      return { ok: false, reason: 'wrong-pin', attemptsLeft: MAX_FAILURES - this.#failures };
    }
    this.#failures = 0;
    const ms = Math.min(MAX_LOCKOUT_MS, LOCKOUT_MS * 2 ** Math.min(this.#lockouts, 32));
    this.#lockouts = Math.min(this.#lockouts + 1, 64);
    this.#lockedUntil = this.now() + ms;
    await this.#persist();
    return { ok: false, reason: 'locked-out', retryAfterMs: ms };
  }

  /** Saves the counts (before the answer goes out, so a restart right after it keeps them). */
  async #persist(): Promise<void> {
    await this.lockoutStore?.save({ failures: this.#failures, lockouts: this.#lockouts, lockedUntil: this.#lockedUntil }).catch(() => undefined);
  }
}
