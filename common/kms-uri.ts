/**
 * What a media server address in the settings may be, in one place for the main process
 * (which refuses anything else when settings are saved or tested) and the Settings page
 * (which says what is wrong while the person types).
 */

/** The address that means "the media engine built into Magic Mirror" (main/defaults.ts BUILTIN_KMS). */
export const BUILTIN_KMS_URI = 'builtin';

/** Why a typed address is not usable, for a message next to the field. */
export type KmsUriIssue = 'empty' | 'spaces' | 'scheme' | 'host' | 'invalid';

/**
 * The addresses in a setting: one, or several separated by commas (a pool of media servers,
 * each mirror on the least-loaded one that is up).
 */
export function splitKmsUris(s: string): string[] {
  return s.split(',').map((u) => u.trim()).filter(Boolean);
}

/** Why a typed address (or comma-separated list of them) is not usable. */
export function kmsUriIssue(s: string): KmsUriIssue | undefined {
  if (s.includes(',')) {
    const uris = splitKmsUris(s);
    if (uris.length === 0) return 'empty';
    for (const u of uris) {
      const issue = oneUriIssue(u);
      if (issue) return issue;
    }
    return undefined;
  }
  return oneUriIssue(s);
}

function oneUriIssue(s: string): KmsUriIssue | undefined {
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
  return kmsUriIssue(s) && `must be "${BUILTIN_KMS_URI}" or a ws:// or wss:// address, like ws://localhost:8888/kurento (several: separated by commas)`;
}
