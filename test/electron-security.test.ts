/**
 * The Electron shell's security decisions (main/security/), as plain functions: the app://
 * origin and its file mapping, webPreferences, permissions, navigation and window.open, IPC
 * senders, crash recovery.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { shouldReloadAfterCrash } from '../main/page-recovery.js';
import { APP_ORIGIN, PAGE_URL, appResponseHeaders, isAppOrigin, isMirrorPage, resolveAppRequest } from '../main/security/app-protocol.js';
import { contentSecurityPolicy } from '../main/content-security-policy.js';
import { checkIpcSender, type IpcSenderFacts } from '../main/security/ipc-sender.js';
import { allowNavigation, decideWindowOpen } from '../main/security/navigation.js';
import { allowPermissionCheck, allowPermissionRequest, mediaTypesFor } from '../main/security/permissions.js';
import { mirrorWebPreferences } from '../main/security/web-preferences.js';

describe('the app:// origin', () => {
  test('the mirror page is app://magic-mirror/ or /index.html, with any query or fragment', () => {
    assert.equal(PAGE_URL, 'app://magic-mirror/index.html');
    for (const url of [PAGE_URL, `${APP_ORIGIN}/`, `${PAGE_URL}?kiosk=1`, `${PAGE_URL}#settings`]) assert.ok(isMirrorPage(url), url);
  });

  test('look-alikes are not the mirror page', () => {
    for (const url of [
      'app://magic-mirror/other.html',
      'app://magic-mirror/assets/index.js',
      'app://evil/index.html',
      'app://magic-mirror.evil.com/index.html',
      'app://user:pw@magic-mirror/index.html',
      'app://magic-mirror:8080/index.html',
      'file:///work/main/dist/renderer/index.html',
      'http://localhost:8443/index.html',
      'devtools://devtools/bundled/devtools_app.html',
      'not a url',
      '',
    ]) {
      assert.equal(isMirrorPage(url), false, url);
    }
    assert.ok(isAppOrigin('app://magic-mirror/assets/index.js'));
    assert.ok(isAppOrigin('app://magic-mirror'), 'permission checks pass the origin without a path');
    assert.equal(isAppOrigin('app://magic-mirror.evil.com/'), false);
  });

  const root = path.resolve('/srv/renderer');
  const get = (url: string) => resolveAppRequest('GET', url, root);

  test('requests map to files under the renderer folder, with a definite content type', () => {
    assert.deepEqual(get('app://magic-mirror/'), { kind: 'file', file: path.join(root, 'index.html'), contentType: 'text/html; charset=utf-8' });
    assert.deepEqual(get('app://magic-mirror/assets/index-abc.js?v=1'), {
      kind: 'file',
      file: path.join(root, 'assets', 'index-abc.js'),
      contentType: 'text/javascript; charset=utf-8',
    });
    assert.equal((get('app://magic-mirror/images/logo.svg') as { contentType: string }).contentType, 'image/svg+xml');
    assert.equal(resolveAppRequest('HEAD', PAGE_URL, root).kind, 'file');
  });

  test('nothing outside the renderer folder, no other hosts, no odd methods or types', () => {
    const refused = (url: string, status: number, method = 'GET') => {
      const r = resolveAppRequest(method, url, root);
      assert.equal(r.kind, 'refused', url);
      assert.equal((r as { status: number }).status, status, url);
    };
    // The URL parser resolves (encoded) dot segments first: this one stays under the root.
    assert.deepEqual(get('app://magic-mirror/%2e%2e/%2e%2e/etc/passwd.js'), {
      kind: 'file',
      file: path.join(root, 'etc', 'passwd.js'),
      contentType: 'text/javascript; charset=utf-8',
    });
    refused('app://magic-mirror/..%2F..%2Fsecret.js', 403);
    refused('app://magic-mirror/a%5C..%5C..%5Csecret.js', 400);
    refused('app://magic-mirror/x%00.js', 400);
    refused('app://magic-mirror/%E0%A4%A.js', 400);
    refused('app://other/index.html', 403);
    refused('file:///etc/passwd', 403);
    refused('app://magic-mirror/main.ts', 404);
    refused('app://magic-mirror/.env', 404);
    refused(PAGE_URL, 405, 'POST');
  });

  test('every response carries the page CSP and nosniff', () => {
    const headers = appResponseHeaders('text/html; charset=utf-8');
    assert.equal(headers['Content-Security-Policy'], contentSecurityPolicy());
    assert.equal(headers['X-Content-Type-Options'], 'nosniff');
  });

  test('the CSP (web mode policy) allows no inline script, eval, plugins or framing, and no socket elsewhere', () => {
    const csp = appResponseHeaders('text/html')['Content-Security-Policy']!;
    assert.match(csp, /(^|; )script-src 'self'(;|$)/);
    assert.match(csp, /(^|; )connect-src 'self'(;|$)/);
    assert.match(csp, /(^|; )object-src 'none'(;|$)/);
    assert.match(csp, /(^|; )frame-ancestors 'none'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
  });
});

describe('webPreferences', () => {
  test('isolated, sandboxed, no Node, web security on, nothing experimental', () => {
    const prefs = mirrorWebPreferences({ preload: '/app/preload.cjs', devTools: false });
    assert.equal(prefs.preload, '/app/preload.cjs');
    assert.equal(prefs.contextIsolation, true);
    assert.equal(prefs.sandbox, true);
    assert.equal(prefs.nodeIntegration, false);
    assert.equal(prefs.nodeIntegrationInWorker, false);
    assert.equal(prefs.nodeIntegrationInSubFrames, false);
    assert.equal(prefs.webSecurity, true);
    assert.equal(prefs.allowRunningInsecureContent, false);
    assert.equal(prefs.experimentalFeatures, false);
    assert.equal(prefs.webviewTag, false);
    assert.equal(prefs.navigateOnDragDrop, false);
    assert.equal(prefs.devTools, false);
    assert.equal('enableBlinkFeatures' in prefs, false);
  });
});

describe('permissions', () => {
  const camera = {
    permission: 'media',
    fromMirrorWindow: true,
    isMainFrame: true,
    requestingUrl: PAGE_URL,
    mediaTypes: ['video', 'audio'],
    kiosk: false,
  };

  test('camera and microphone for the mirror page are granted', () => {
    assert.ok(allowPermissionRequest(camera));
    assert.ok(allowPermissionRequest({ ...camera, mediaTypes: ['video'] }));
  });

  test('anything else is refused', () => {
    const refused = (why: string, facts: Partial<typeof camera>) => assert.equal(allowPermissionRequest({ ...camera, ...facts }), false, why);
    refused('another window', { fromMirrorWindow: false });
    refused('a subframe', { isMainFrame: false });
    refused('another page', { requestingUrl: 'https://evil.example/' });
    refused('a file:// page', { requestingUrl: 'file:///tmp/index.html' });
    refused('media with no types', { mediaTypes: [] });
    refused('media without types', { mediaTypes: undefined });
    refused('an unknown media type', { mediaTypes: ['video', 'screen'] });
    for (const permission of ['display-capture', 'notifications', 'geolocation', 'clipboard-read', 'hid', 'openExternal', 'fullscreen', 'unknown']) {
      refused(permission, { permission });
    }
  });

  test('kiosk mode: the camera only — the microphone is refused, alone or with the camera (issue 23)', () => {
    const kiosk = { ...camera, kiosk: true };
    assert.equal(allowPermissionRequest(kiosk), false, 'video + audio');
    assert.equal(allowPermissionRequest({ ...kiosk, mediaTypes: ['audio'] }), false, 'audio');
    assert.ok(allowPermissionRequest({ ...kiosk, mediaTypes: ['video'] }), 'the camera alone, as the page asks next');
    const check = { permission: 'media', fromMirrorWindow: true, isMainFrame: true, requestingOrigin: APP_ORIGIN, kiosk: true };
    assert.equal(allowPermissionCheck({ ...check, mediaType: 'audio' }), false);
    assert.ok(allowPermissionCheck({ ...check, mediaType: 'video' }));
    assert.deepEqual([...mediaTypesFor(true)], ['video']);
    assert.deepEqual([...mediaTypesFor(false)].sort(), ['audio', 'video'], 'outside kiosk mode the page plays its audio back (unmute)');
  });

  test('checks: media video/audio for our origin in the mirror window main frame only', () => {
    const check = { permission: 'media', fromMirrorWindow: true, isMainFrame: true, requestingOrigin: APP_ORIGIN, mediaType: 'video', kiosk: false };
    assert.ok(allowPermissionCheck(check));
    assert.ok(allowPermissionCheck({ ...check, mediaType: 'audio', requestingOrigin: `${APP_ORIGIN}/` }));
    assert.equal(allowPermissionCheck({ ...check, mediaType: 'unknown' }), false);
    assert.equal(allowPermissionCheck({ ...check, mediaType: undefined }), false);
    assert.equal(allowPermissionCheck({ ...check, fromMirrorWindow: false }), false);
    assert.equal(allowPermissionCheck({ ...check, isMainFrame: false }), false);
    assert.equal(allowPermissionCheck({ ...check, requestingOrigin: 'https://evil.example' }), false);
    assert.equal(allowPermissionCheck({ ...check, permission: 'notifications' }), false);
  });
});

describe('navigation and new windows', () => {
  test('only the mirror page may be navigated to (reload, same page)', () => {
    assert.ok(allowNavigation(PAGE_URL));
    assert.ok(allowNavigation(`${PAGE_URL}#x`));
    for (const url of ['https://example.com/', 'app://magic-mirror/other.html', 'file:///etc/passwd', 'javascript:alert(1)', 'data:text/html,hi', 'about:blank']) {
      assert.equal(allowNavigation(url), false, url);
    }
  });

  test('window.open never opens a window; allowlisted https links go to the system browser', () => {
    assert.deepEqual(decideWindowOpen('https://doc-kurento.readthedocs.io/en/latest/', { kiosk: false }), {
      action: 'deny',
      openExternally: 'https://doc-kurento.readthedocs.io/en/latest/',
    });
    for (const url of [
      'http://doc-kurento.readthedocs.io/',
      'https://evil.doc-kurento.readthedocs.io/',
      'https://doc-kurento.readthedocs.io.evil.com/',
      'https://user@doc-kurento.readthedocs.io/',
      'https://doc-kurento.readthedocs.io:8443/',
      'https://example.com/',
      'file:///etc/passwd',
      'smb://server/share',
      'ms-msdt:/id PCWDiagnostic',
      'app://magic-mirror/index.html',
      'not a url',
    ]) {
      assert.deepEqual(decideWindowOpen(url, { kiosk: false }), { action: 'deny' }, url);
    }
  });

  test('a kiosk opens nothing, not even allowlisted links', () => {
    assert.deepEqual(decideWindowOpen('https://doc-kurento.readthedocs.io/', { kiosk: true }), { action: 'deny' });
  });
});

describe('IPC senders', () => {
  const mirrorWindows = new Set([7]);
  const ours: IpcSenderFacts = { webContentsId: 7, frame: { url: PAGE_URL, isMainFrame: true } };
  const refusal = (facts: IpcSenderFacts) => {
    const verdict = checkIpcSender(facts, mirrorWindows);
    assert.equal(verdict.ok, false);
    return (verdict as { reason: string }).reason;
  };

  test('the mirror page in the mirror window main frame is accepted', () => {
    assert.deepEqual(checkIpcSender(ours, mirrorWindows), { ok: true });
  });

  test('other webContents (another window, DevTools) are refused', () => {
    assert.match(refusal({ ...ours, webContentsId: 8 }), /not a mirror window/);
    assert.match(refusal({ webContentsId: 9, frame: { url: 'devtools://devtools/bundled/devtools_app.html', isMainFrame: true } }), /not a mirror window/);
  });

  test('a subframe, a gone frame, another URL are refused', () => {
    assert.match(refusal({ ...ours, frame: { url: PAGE_URL, isMainFrame: false } }), /subframe/);
    assert.match(refusal({ ...ours, frame: null }), /gone/);
    assert.match(refusal({ ...ours, frame: { url: 'https://evil.example/', isMainFrame: true } }), /not the mirror page/);
    assert.match(refusal({ ...ours, frame: { url: 'file:///work/main/dist/renderer/index.html', isMainFrame: true } }), /not the mirror page/);
    assert.match(refusal({ ...ours, frame: { url: 'devtools://devtools/bundled/devtools_app.html', isMainFrame: true } }), /not the mirror page/);
  });
});

describe('renderer crash recovery', () => {
  test('reloads after a crash, not after a deliberate end, and not twice within 10 s', () => {
    assert.ok(shouldReloadAfterCrash('crashed', undefined, 1000));
    assert.ok(shouldReloadAfterCrash('oom', 1000, 11_000));
    assert.equal(shouldReloadAfterCrash('crashed', 1000, 5000), false);
    assert.equal(shouldReloadAfterCrash('clean-exit', undefined, 1000), false);
    assert.equal(shouldReloadAfterCrash('killed', undefined, 1000), false);
  });
});
