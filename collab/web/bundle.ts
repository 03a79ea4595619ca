/**
 * The dashboard's browser code, bundled with esbuild into memory when first asked for (`write:
 * false`) and kept for the life of the process: nothing is written to disk, so a fresh clone serves
 * it after `npm install` alone, and a change to the sources is picked up by the next server start.
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** The bundled page: its script, its live-plot worker's, and its style sheet, with a tag for
 *  HTTP caching. */
export interface DashboardBundle {
  js: Uint8Array;
  /** The live-plot worker's script (`browser/live_worker.ts`). */
  worker: Uint8Array;
  css: Uint8Array;
  /** A content hash of both (an HTTP ETag). */
  etag: string;
  /** How long the build took, in milliseconds. */
  build_ms: number;
}

/** The entry point of the page's code. */
export const DASHBOARD_ENTRY = fileURLToPath(new URL("./browser/main.ts", import.meta.url));
/** The entry point of the worker that draws the live charts. */
export const DASHBOARD_WORKER_ENTRY = fileURLToPath(
  new URL("./browser/live_worker.ts", import.meta.url),
);

let cached: Promise<DashboardBundle> | undefined;

/** The bundle, built once per process (a failed build is retried on the next call). */
export function dashboardBundle(): Promise<DashboardBundle> {
  cached ??= build().catch((err) => {
    cached = undefined;
    throw err;
  });
  return cached;
}

async function build(): Promise<DashboardBundle> {
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
  };
}
