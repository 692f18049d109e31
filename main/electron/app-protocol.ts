/** Serves app://magic-mirror/ from the built page (dist/renderer/), with the page's CSP. */
import { readFile } from 'node:fs/promises';
import { protocol } from 'electron';
import { APP_SCHEME, APP_SCHEME_PRIVILEGES, appResponseHeaders, resolveAppRequest } from '../security/app-protocol.js';

/** Must run before the app is ready. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: APP_SCHEME_PRIVILEGES }]);
}

export function serveAppProtocol(rendererDir: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const target = resolveAppRequest(request.method, request.url, rendererDir);
    if (target.kind === 'refused') return new Response(target.reason, { status: target.status });
    try {
      const body = request.method === 'HEAD' ? null : await readFile(target.file);
      return new Response(body, { headers: appResponseHeaders(target.contentType) });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });
}
