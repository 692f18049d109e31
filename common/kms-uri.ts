/**
 * What a media server address in the settings may be, in one place for the main process
 * (which refuses anything else when settings are saved or tested) and the Settings page
 * (which says what is wrong while the person types).
 */

/** The address that means "the media engine built into Magic Mirror" (main/defaults.ts BUILTIN_KMS). */
export const BUILTIN_KMS_URI = 'builtin';

/** Why a typed address is not usable, for a message next to the field. */
export type KmsUriIssue = 'empty' | 'spaces' | 'scheme' | 'host' | 'invalid';

export function kmsUriIssue(s: string): KmsUriIssue | undefined {
  if (s === BUILTIN_KMS_URI) return undefined;
  if (s.trim() === '') return 'empty';
  if (/\s/.test(s)) return 'spaces';
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    if (/^wss?:\/\/([/:?#]|$)/i.test(s)) return 'host';
    return /^wss?:/i.test(s) ? 'invalid' : 'scheme';
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') return 'scheme';
  if (!u.hostname) return 'host';
  return undefined;
}

/** The main process's wording (for IPC refusals and saved-settings problems). */
export function kmsUriProblem(s: string): string | undefined {
  return kmsUriIssue(s) && `must be "${BUILTIN_KMS_URI}" or a ws:// or wss:// address, like ws://localhost:8888/kurento`;
}
