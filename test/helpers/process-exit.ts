/**
 * For test files that use @roamhq/wrtc: a process that ever created an RTCVideoSource segfaults
 * (exit 139) when it exits by itself, which node --test reports as a failed file even when every
 * test passed. Call exitAfterTests() once, at the top level of such a file.
 *
 * How it works: node:test sets process.exitCode = 1 as soon as a test fails. Once every test
 * has run (root after() hook), we add an 'exit' listener that calls process.exit(code) — from
 * inside 'exit' that goes straight to the C++ exit, skipping the environment teardown in which
 * wrtc crashes. The natural path is kept on purpose: the event loop drains, the runner prints
 * its summary, and only then does 'exit' fire, so nothing the reporter wrote is lost.
 *
 * If the event loop does NOT drain (a peer connection, track, server or browser left open),
 * node --test would hang forever; instead, graceMs after the last test we print what happened
 * and exit with code 1 even if every test passed: a leak is a bug in the test file.
 */
import { after } from 'node:test';

export function exitAfterTests(graceMs = 5000): void {
  after(() => {
    // Registered this late on purpose: calling process.exit() inside 'exit' skips the listeners
    // added after ours, and playwright's browser-killing listener must still run.
    process.once('exit', (code) => process.exit(code));
    setTimeout(() => {
      console.error(
        `exitAfterTests: the process is still busy ${graceMs} ms after the last test: something ` +
          '(peer connection, track, sink, server, browser) was not closed. Exiting with code 1. ' +
          `Active handles: ${activeHandles()}`,
      );
      process.exit(1);
    }, graceMs).unref();
  });
}

/** What keeps the event loop alive, for the leak message (Node's own diagnostic API). */
function activeHandles(): string {
  const handles = (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles();
  return handles.map((h) => h.constructor.name).join(', ') || 'none visible (native)';
}
