/**
 * Test support for the browser suites: `haveBrowser()` prints one loud line and says no where a
 * browser cannot be driven (no Chromium), and `launchBrowser()`
 * starts headless Chromium with a fresh profile.
 */
import { browserMissing } from "../../bench/_browser.ts";
export { CHROMIUM, launchBrowser } from "../../bench/_browser.ts";

/** Whether `suiteName` can drive a browser here; prints one loud line when it cannot. */
export function haveBrowser(suiteName: string): boolean {
  const why = browserMissing();
  if (why === undefined) return true;
  console.log(`\n  !!! SKIPPED ${suiteName}: ${why} !!!\n`);
  return false;
}
