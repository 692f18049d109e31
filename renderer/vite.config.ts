/**
 * Builds the mirror page into dist/renderer/, which both the web mode's HTTP server and (later)
 * the Electron shell load. Relative asset paths (base './') so the same files work from
 * http://host/ and from a custom app protocol.
 *
 * kurento-utils 7.3.0 is CommonJS written for browserify; rolldown bundles it as is, given:
 * - `events`: Node's EventEmitter, which WebRtcPeer inherits from — the npm `events` package
 *   (a devDependency) stands in for the builtin, as browserify did.
 * - `kurento-browser-extensions`: an optional dependency (screen sharing) that kurento-utils
 *   require()s in a try/catch and, when missing, assigns an undeclared global in its catch.
 *   A bundle is an ES module, so strict mode, so that assignment would throw a ReferenceError
 *   at load: an empty stand-in makes the require succeed instead.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: './',
  // Nothing is copied verbatim: every asset is imported or referenced from index.html.
  publicDir: false,
  resolve: {
    alias: {
      events: here('../node_modules/events/events.js'),
      'kurento-browser-extensions': here('./shims/kurento-browser-extensions.ts'),
    },
  },
  build: {
    outDir: here('../dist/renderer'),
    emptyOutDir: true,
    // Small icons would otherwise become data: URLs; keep them files so a strict CSP
    // (img-src 'self') needs no data: exception.
    assetsInlineLimit: 0,
    sourcemap: true,
  },
});
