/**
 * The Settings page's own checks, made while the person types (the main process checks
 * everything again on save and answers per-field problems). Pure, so they are unit-tested.
 */
import { kmsUriIssue, type KmsUriIssue } from '../../common/kms-uri.js';

export { kmsUriIssue, type KmsUriIssue };

/** Why a number field's text is not a number. */
export type NumberIssue = { kind: 'empty' } | { kind: 'not-a-number' } | { kind: 'comma' } | { kind: 'character'; character: string };

/**
 * The first character typed or pasted into a number field that cannot belong to a number
 * (Chromium would drop it silently, turning "-0.35F" into -0.35 and "1,5" into 15).
 */
export function refusedCharacter(inserted: string): NumberIssue | undefined {
  const bad = /[^0-9.eE+-]/.exec(inserted)?.[0];
  if (bad === undefined) return undefined;
  return bad === ',' ? { kind: 'comma' } : { kind: 'character', character: bad };
}

/** A number field's value: its number, or why there is none (`badInput`: the field holds text that is not a number). */
export function readNumber(value: string, badInput: boolean): { ok: true; value: number } | { ok: false; issue: NumberIssue } {
  if (badInput) return { ok: false, issue: { kind: 'not-a-number' } };
  if (value.trim() === '') return { ok: false, issue: { kind: 'empty' } };
  const n = Number(value);
  return Number.isFinite(n) ? { ok: true, value: n } : { ok: false, issue: { kind: 'not-a-number' } };
}

/** A hat image field: only emptiness is the page's business (the main process knows paths). */
export function hatUriIssue(s: string): 'empty' | undefined {
  return s.trim() === '' ? 'empty' : undefined;
}

/** The problem path (settings:set) → the field it belongs to; undefined: a problem for the whole form. */
export function fieldForProblem(path: string): string | undefined {
  const exact: Record<string, string> = {
    kmsUri: 'kms-uri',
    hat: 'hat',
    'hat.uri': 'hat',
    'hat.id': 'hat',
    'hat.kind': 'hat',
    overlay: 'placement',
    'overlay.offsetXPercent': 'offset-x',
    'overlay.offsetYPercent': 'offset-y',
    'overlay.widthPercent': 'width',
    'overlay.heightPercent': 'height',
    stun: 'stun-host',
    'stun.host': 'stun-host',
    'stun.port': 'stun-port',
    turn: 'turn-host',
    'turn.host': 'turn-host',
    'turn.port': 'turn-port',
    'turn.username': 'turn-username',
    'turn.password': 'turn-password',
    'turn.transport': 'turn-transport',
    cameraDeviceId: 'camera',
    kiosk: 'kiosk',
    newStaffPin: 'staff-pin',
  };
  return exact[path];
}

/** "must be between 1 and 65535" → "Must be between 1 and 65535." */
export function sentence(message: string): string {
  const s = message.trim();
  return `${s.charAt(0).toUpperCase()}${s.slice(1)}${/[.!?]$/.test(s) ? '' : '.'}`;
}
