/**
 * The dashboard's browser code. A built package (`npm pack`: cli/_build_package.mjs) carries it
 * prebuilt beside this module, in `dashboard/`, and serves those files: an installed troupe
 * compiles nothing at run time. Without them (a clone of the repository), it is bundled with
 * esbuild into memory when first asked for (`write: false`) and kept for the life of the process:
 * nothing is written to disk, so a fresh clone serves it after `npm install` alone, and a change to
 * the sources is picked up by the next server start.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The bundled page: its script, its live-plot worker's, and its style sheet, with a tag for
 *  HTTP caching. */
export interface DashboardBundle {
  js: Uint8Array;
  /** The live-plot worker's script (`browser/plot/live_worker.ts`). */
  worker: Uint8Array;
  css: Uint8Array;
  /** A content hash of both (an HTTP ETag). */
  etag: string;
  /** How long the build (or the reading of the prebuilt files) took, in milliseconds. */
  build_ms: number;
  /** Whether it was read from the package's prebuilt files rather than bundled here. */
  prebuilt: boolean;
}

/** The prebuilt bundle's folder, beside this module in a built package. */
export const PREBUILT_DASHBOARD_DIR = fileURLToPath(new URL("./dashboard/", import.meta.url));

/** The prebuilt bundle's files by part. */
const PREBUILT_FILES = {
  js: "dashboard.js",
  worker: "dashboard_worker.js",
  css: "dashboard.css",
} as const;

/** The entry point of the page's code. */
export const DASHBOARD_ENTRY = fileURLToPath(new URL("./browser/main.ts", import.meta.url));
/** The entry point of the worker that draws the live charts. */
export const DASHBOARD_WORKER_ENTRY = fileURLToPath(
  new URL("./browser/plot/live_worker.ts", import.meta.url),
);

let cached: Promise<DashboardBundle> | undefined;

/**
 * The bundle: the package's prebuilt files when it has them, else built once per process (a
 * failed build is retried on the next call).
 */
export function dashboardBundle(): Promise<DashboardBundle> {
  cached ??= (prebuiltBundle(PREBUILT_DASHBOARD_DIR) ?? buildDashboardBundle()).catch((err) => {
    cached = undefined;
    throw err;
  });
  return cached;
}

/**
 * The prebuilt bundle in `dir`, or undefined when its files are not all there; its tag is a hash
 * of their contents.
 */
export function prebuiltBundle(dir: string): Promise<DashboardBundle> | undefined {
  const paths = Object.values(PREBUILT_FILES).map((f) => join(dir, f));
  if (!paths.every((p) => existsSync(p))) return undefined;
  const t0 = performance.now();
  const [js, worker, css] = paths.map((p) => new Uint8Array(readFileSync(p)));
  const hash = createHash("sha256");
  for (const part of [js!, worker!, css!]) hash.update(part);
  return Promise.resolve({
    js: js!,
    worker: worker!,
    css: css!,
    etag: `"${hash.digest("hex").slice(0, 16)}"`,
    build_ms: performance.now() - t0,
    prebuilt: true,
  });
}

/** Bundles the page and writes it into `dir` as the prebuilt files a package serves. */
export async function writeDashboardBundle(dir: string): Promise<DashboardBundle> {
  const bundle = await buildDashboardBundle();
  mkdirSync(dir, { recursive: true });
  for (const [part, file] of Object.entries(PREBUILT_FILES)) {
    writeFileSync(join(dir, file), bundle[part as keyof typeof PREBUILT_FILES]);
  }
  return bundle;
}

/** Bundles the page's code, its worker's and its style sheet into memory with esbuild. */
export async function buildDashboardBundle(): Promise<DashboardBundle> {
  const t0 = performance.now();
  const esbuild = await import("esbuild");
  let result;
  try {
    result = await esbuild.build({
      // uPlot's style sheet rides along as a second entry (the page's code imports no CSS, so it
      // type-checks as plain TypeScript on Node and Deno).
      entryPoints: [
        DASHBOARD_ENTRY,
        DASHBOARD_WORKER_ENTRY,
        createRequire(import.meta.url).resolve("uplot/dist/uPlot.min.css"),
      ],
      bundle: true,
      format: "esm",
      platform: "browser",
      target: ["chrome110", "firefox110", "safari16"],
      outdir: "/dashboard",
      write: false,
      minify: true,
      sourcemap: false,
      logLevel: "silent",
      legalComments: "none",
    });
  } catch (err) {
    const first = (err as { errors?: Array<{ text: string; location?: { file: string } | null }> })
      .errors?.[0];
    throw new Error(
      `Cannot bundle the dashboard (${DASHBOARD_ENTRY}): ${
        first ? `${first.location?.file ?? ""}: ${first.text}` : (err as Error).message
      }`,
      { cause: err },
    );
  }
  const js = result.outputFiles.find((f) => f.path.endsWith("/main.js"));
  const worker = result.outputFiles.find((f) => f.path.endsWith("/live_worker.js"));
  const css = result.outputFiles.find((f) => f.path.endsWith(".css"));
  if (!js || !worker) {
    throw new Error(
      `Cannot bundle the dashboard: esbuild gave no script for ${
        js ? DASHBOARD_WORKER_ENTRY : DASHBOARD_ENTRY
      }`,
    );
  }
  const etag = `"${js.hash}-${worker.hash}${css ? `-${css.hash}` : ""}"`;
  return {
    js: js.contents,
    worker: worker.contents,
    css: css?.contents ?? new Uint8Array(),
    etag,
    build_ms: performance.now() - t0,
    prebuilt: false,
  };
}
