/**
 * What to do when the mirror page's renderer process dies. A kiosk has nobody to press
 * reload, so the page is reloaded — unless the process was ended on purpose (clean exit, or
 * killed by the OS or a person), and never twice within RELOAD_PAUSE_MS, so a page that
 * crashes at once after loading does not spin the CPU in a reload loop.
 */
export const RELOAD_PAUSE_MS = 10_000;

/** reason: RenderProcessGoneDetails.reason. lastReloadAt: when we last reloaded after a crash. */
export function shouldReloadAfterCrash(reason: string, lastReloadAt: number | undefined, now: number): boolean {
  if (reason === 'clean-exit' || reason === 'killed') return false;
  return lastReloadAt === undefined || now - lastReloadAt >= RELOAD_PAUSE_MS;
}
