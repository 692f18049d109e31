/**
 * Polls `cond` until it holds; fails with `what` after `timeoutMs`. `what` may be a function,
 * read only on failure, to say what was found instead (e.g. the counts left over).
 */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000, what: string | (() => string | Promise<string>) = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${typeof what === 'string' ? what : await what()} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
