// Builds troupe's package for Node (`npm run build`, run by `npm pack` through `prepack`): every
// TypeScript source transpiled to JavaScript under dist/ (the same tree, `.ts` specifiers
// rewritten to `.js`, as cli/_compile.mjs mirrors it), and the declarations of the public entry
// points (mod.ts, testing.ts) and the command, emitted by tsc, and the dashboard's browser bundle
// (dist/collab/web/dashboard/, which the collab server serves when it is there). An installed
// troupe then runs plain JavaScript, with no compile step in the user's project; Deno users import
// the TypeScript (deno.json `exports`), which the package also carries. The benchmarks (bench/)
// are left out, as package.json's `files` leaves their sources out: they run from a checkout.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { carryModules, listSourceFiles, REPO_DIR, rewriteSpecifiers } from "./_compile.mjs";

const OUT = join(REPO_DIR, "dist");
/** The benchmarks' folder, which the package leaves out. */
const BENCH = join(REPO_DIR, "bench");
const shipped = (file) => !file.startsWith(BENCH + sep);

const started = performance.now();
rmSync(OUT, { recursive: true, force: true });
const files = listSourceFiles([".ts"]).filter(shipped);
const esbuild = await import("esbuild");
const result = await esbuild.build({
  entryPoints: files,
  outdir: OUT,
  outbase: REPO_DIR,
  bundle: false,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: false,
  write: false,
  logLevel: "silent",
});
for (const out of result.outputFiles) {
  mkdirSync(dirname(out.path), { recursive: true });
  writeFileSync(out.path, rewriteSpecifiers(out.text));
}
// The plain JavaScript modules the sources import (actors/files/unused_cache.mjs), as they are.
carryModules(listSourceFiles([".mjs"]).filter(shipped), OUT);

// The dashboard's page, bundled from the JavaScript just written, where the built collab server
// looks for it.
const { PREBUILT_DASHBOARD_DIR, writeDashboardBundle } = await import(
  pathToFileURL(join(OUT, "collab", "web", "bundle.js")).href
);
const dashboard = await writeDashboardBundle(PREBUILT_DASHBOARD_DIR);

const tsc = spawnSync(
  process.execPath,
  [join(REPO_DIR, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"],
  { cwd: REPO_DIR, stdio: "inherit" },
);
if (tsc.status !== 0) {
  console.error(`troupe build: tsc failed to emit the declarations (exit ${tsc.status})`);
  process.exit(1);
}
let declarations = 0;
const rewriteDeclarations = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) rewriteDeclarations(path);
    else if (entry.name.endsWith(".d.ts")) {
      writeFileSync(path, rewriteSpecifiers(readFileSync(path, "utf8")));
      declarations++;
    }
  }
};
// tsc follows the bench command's type import into bench/: its declarations are not shipped.
rmSync(join(OUT, "bench"), { recursive: true, force: true });
rewriteDeclarations(OUT);
console.log(
  `troupe build: ${result.outputFiles.length} modules, ${declarations} declaration files and ` +
    `the dashboard's bundle (${
      ((dashboard.js.byteLength + dashboard.worker.byteLength) / 1024).toFixed(0)
    } KiB) in dist/ (${((performance.now() - started) / 1000).toFixed(1)} s)`,
);
