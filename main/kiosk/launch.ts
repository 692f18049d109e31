/**
 * Whether the app starts as a kiosk, and the page address that tells the page so. Kiosk mode
 * is on with `--kiosk` on the command line (`--kiosk=false` turns it off for one run) or the
 * `kiosk` setting; the page learns it from its address (`?kiosk=1`), as in web mode, so a
 * browser kiosk (chromium --kiosk http://host:8443/?kiosk=1) behaves the same.
 */
export const KIOSK_QUERY = 'kiosk=1';

/** true/false when the command line says, undefined when it does not mention kiosk mode. */
export function kioskFromCommandLine(argv: readonly string[]): boolean | undefined {
  let found: boolean | undefined;
  for (const arg of argv) {
    if (arg === '--kiosk' || arg === '--kiosk=true' || arg === '--kiosk=1') found = true;
    else if (arg === '--kiosk=false' || arg === '--kiosk=0' || arg === '--no-kiosk') found = false;
  }
  return found;
}

export function kioskEnabled(argv: readonly string[], setting: boolean): boolean {
  return kioskFromCommandLine(argv) ?? setting;
}

/** The mirror page's address in kiosk mode (PAGE_URL + ?kiosk=1) or not. */
export function kioskPageUrl(pageUrl: string, kiosk: boolean): string {
  const url = new URL(pageUrl);
  url.search = kiosk ? KIOSK_QUERY : '';
  return url.href;
}
