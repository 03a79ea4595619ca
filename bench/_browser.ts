/**
 * Headless Chromium for the dashboard bench and the browser tests: Debian's `/usr/bin/chromium`
 * (or TROUPE_CHROMIUM) driven by playwright-core, with a fresh user data directory per launch.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext } from "playwright-core";
import { devPackage } from "./_dev_package.ts";

/** The Chromium binary driven. */
export const CHROMIUM = process.env.TROUPE_CHROMIUM ?? "/usr/bin/chromium";

/** The launch arguments: headless-friendly, no first-run or background traffic. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--no-first-run",
];

/** Why a browser cannot be driven here (no Chromium binary), or undefined. playwright-core
 *  itself runs on Node and on Deno 2. */
export function browserMissing(): string | undefined {
  if (!existsSync(CHROMIUM)) {
    return `no Chromium at ${CHROMIUM} (apt-get install chromium, or set TROUPE_CHROMIUM)`;
  }
  return undefined;
}

/**
 * A headless Chromium with a fresh profile; `cleanup()` closes it and removes the profile.
 * `extraArgs` are appended to CHROMIUM_ARGS (a bench's diagnostic runs only, e.g.
 * `--in-process-gpu`: figures taken with them are not the charter's configuration).
 */
export async function launchBrowser(
  options: { width?: number; height?: number; extraArgs?: readonly string[] } = {},
): Promise<BrowserContext & { cleanup(): Promise<void> }> {
  const { chromium } = await devPackage(
    "playwright-core",
    () => import("playwright-core"),
    "Driving Chromium (bench dashboard)",
  );
  const profile = mkdtempSync(join(tmpdir(), "troupe-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...(options.extraArgs ?? [])],
    viewport: { width: options.width ?? 1600, height: options.height ?? 1000 },
  });
  return Object.assign(context, {
    async cleanup() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  });
}
