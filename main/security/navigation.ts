/**
 * Where the window may go: nowhere but the mirror page. will-navigate and will-redirect are
 * cancelled for any other URL, and window.open / target=_blank never opens an Electron window.
 * A link to an allowlisted https site may open in the person's browser — never any other URL,
 * since shell.openExternal on an untrusted URL can launch arbitrary protocol handlers.
 */
import { isMirrorPage } from './app-protocol.js';

/** Sites the page may link to (help texts), opened in the system browser. Exact host names. */
export const EXTERNAL_LINK_HOSTS: readonly string[] = ['doc-kurento.readthedocs.io'];

/** For will-navigate and will-redirect: true lets the navigation go ahead. */
export function allowNavigation(url: string): boolean {
  return isMirrorPage(url);
}

export interface WindowOpenDecision {
  action: 'deny';
  /** A URL to hand to shell.openExternal, when it is an allowlisted https link. */
  openExternally?: string;
}

export function decideWindowOpen(url: string, opts: { kiosk: boolean }): WindowOpenDecision {
  // A kiosk has no way back from a browser window it opened.
  if (opts.kiosk) return { action: 'deny' };
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { action: 'deny' };
  }
  const allowed = u.protocol === 'https:' && !u.username && !u.password && !u.port && EXTERNAL_LINK_HOSTS.includes(u.hostname);
  return allowed ? { action: 'deny', openExternally: u.href } : { action: 'deny' };
}
