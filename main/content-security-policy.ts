/**
 * The mirror page's Content-Security-Policy, the one policy for every way the page is served
 * (web mode sends it as a header; the Electron window will set the same on its responses).
 * Only our own origin, plus the WebSocket origin(s) the page talks to (CSP2 browsers do not
 * count ws:/wss: as 'self').
 */
export function contentSecurityPolicy(socketOrigins: readonly string[] = []): string {
  const directives: Record<string, string[]> = {
    'default-src': ["'self'"],
    'connect-src': ["'self'", ...socketOrigins],
    'img-src': ["'self'", 'data:', 'blob:'],
    'media-src': ["'self'", 'blob:', 'mediastream:'],
    'script-src': ["'self'"],
    'style-src': ["'self'"],
    'object-src': ["'none'"],
    'frame-ancestors': ["'none'"],
    // Not covered by default-src: no <base> rewriting of relative URLs, no form posts anywhere.
    'base-uri': ["'none'"],
    'form-action': ["'none'"],
  };
  return Object.entries(directives)
    .map(([name, sources]) => `${name} ${sources.join(' ')}`)
    .join('; ');
}

/** The WebSocket origin matching a page origin: http://h:p → ws://h:p, https://h:p → wss://h:p. */
export function socketOriginOf(pageOrigin: string): string {
  return pageOrigin.replace(/^http/, 'ws');
}
