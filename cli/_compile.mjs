// @ts-self-types="./_compile.d.mts"
// Compiles troupe's TypeScript sources to JavaScript for Node, once per change of the sources, so
// that a troupe process runs plain JavaScript instead of loading TypeScript through tsx. tsx's
// loader runs on a thread of its own in every process and worker (Node 20's module hooks are
// off-thread): about 37 MB of resident memory and 0.3-0.8 s of start-up each, which is a quarter
// of a host's memory budget and as long as a whole replay. Deno runs the sources as they are and
// never comes here.
//
// The output is a mirror of the source folders under `node_modules/.cache/troupe/js-<hash>/`
// (`actors/runtime/host/host.ts` -> `actors/runtime/host/host.js`), one file per source file,
// transpiled by esbuild without bundling, with relative `.ts` specifiers rewritten to `.js`, and
// the plain JavaScript modules the sources import (`.mjs`) carried as they are. The hash covers
// every source file's path, size and modification time, so an edited source gives a new mirror; a
// mirror is written to a temporary folder and renamed into place, so concurrent processes never
// see half of one; a mirror no process has started from for a day is removed
// (actors/files/unused_cache.mjs, which the worker threads' bundles share). Bare specifiers
// (`xstate`, `@nats-io/...`) resolve from the repository's node_modules, which encloses the mirror.
// Each file links its source map, so that `--enable-source-maps` gives stack traces in the
// TypeScript.
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { markUsed, pruneUnused } from "../actors/files/unused_cache.mjs";

/** The repository: the folder above cli/. */
export const REPO_DIR = fileURLToPath(new URL("../", import.meta.url));

/** The folders whose TypeScript a troupe process may load (tests run through tsx). */
const SOURCE_DIRS = ["protocol", "actors", "sim", "collab", "cli", "bench"];
/** The library's entry points (`troupe`, `troupe/testing`), which a user's kinds import. */
const TOP_FILES = ["mod.ts", "testing.ts"];

/** Relative `./x.ts` and `../x.ts` specifiers in quotes or backquotes (static, dynamic, URLs). */
const TS_SPECIFIER = /(["'`])(\.\.?\/[^"'`\n]*?)\.ts\1/g;

/** `code` with its relative `.ts` module specifiers (and URLs) pointing at `.js` files. */
export function rewriteSpecifiers(code) {
  return code.replace(TS_SPECIFIER, "$1$2.js$1");
}

/** The files under `dir` (every depth) whose names end in `extension`. */
function listFiles(dir, extension) {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(extension)) {
      files.push(join(entry.parentPath ?? entry.path, entry.name));
    }
  }
  return files;
}

/**
 * The files of the source folders whose names end in one of `extensions` (`.ts`: the sources to
 * transpile, `.d.ts` left out; `.mjs`: plain JavaScript modules the sources import, carried as
 * they are), sorted.
 */
export function listSourceFiles(extensions) {
  const files = [];
  const wanted = (name) => extensions.some((e) => name.endsWith(e)) && !name.endsWith(".d.ts");
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules") walk(path);
      } else if (wanted(entry.name)) files.push(path);
    }
  };
  for (const d of SOURCE_DIRS) {
    const dir = join(REPO_DIR, d);
    if (existsSync(dir)) walk(dir);
  }
  for (const f of TOP_FILES) {
    if (wanted(f) && existsSync(join(REPO_DIR, f))) files.push(join(REPO_DIR, f));
  }
  return files.sort();
}

/**
 * Copies the plain JavaScript modules the sources import into `outDir`, at the same paths, each
 * with its types (`x.d.mts`) where it has them.
 */
export function carryModules(modules, outDir) {
  for (const file of modules) {
    const to = join(outDir, relative(REPO_DIR, file));
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(file, to);
    const types = file.replace(/\.mjs$/, ".d.mts");
    if (existsSync(types)) copyFileSync(types, to.replace(/\.mjs$/, ".d.mts"));
  }
}

function fingerprint(files, esbuildVersion) {
  const h = createHash("sha256");
  h.update(`esbuild ${esbuildVersion}\n`);
  const self = statSync(fileURLToPath(import.meta.url)); // a change of how the mirror is made
  h.update(`compiler ${self.size} ${self.mtimeMs}\n`);
  for (const f of files) {
    const s = statSync(f);
    h.update(`${relative(REPO_DIR, f)} ${s.size} ${s.mtimeMs}\n`);
  }
  return h.digest("hex").slice(0, 16);
}

/**
 * The file URL of `cli/main.js` in an up-to-date mirror, compiling the sources first when they
 * changed; undefined when a mirror cannot be made here (no esbuild, a read-only node_modules),
 * in which case the caller loads the TypeScript through tsx.
 */
export async function compiledMain() {
  // The version from esbuild's package.json: importing esbuild itself costs ~25 ms, and a start
  // from an up-to-date mirror does not need it.
  let esbuildVersion;
  try {
    const manifest = createRequire(import.meta.url).resolve("esbuild/package.json");
    esbuildVersion = JSON.parse(readFileSync(manifest, "utf8")).version;
  } catch {
    return undefined;
  }
  const cacheDir = join(REPO_DIR, "node_modules", ".cache", "troupe");
  const files = listSourceFiles([".ts"]);
  const modules = listSourceFiles([".mjs"]);
  const outDir = join(cacheDir, `js-${fingerprint([...files, ...modules], esbuildVersion)}`);
  const main = join(outDir, "cli", "main.js");
  if (existsSync(main)) {
    markUsed(outDir);
    return pathToFileURL(main).href;
  }
  const tmpDir = `${outDir}.tmp-${process.pid}`;
  let esbuild;
  try {
    esbuild = await import("esbuild");
    // esbuild writes the files (its output never held here at once: this process's resident
    // memory is a host's), then each is read back for its specifiers.
    await esbuild.build({
      entryPoints: files,
      outdir: tmpDir,
      outbase: REPO_DIR,
      bundle: false,
      format: "esm",
      platform: "node",
      target: "node20",
      sourcemap: "linked",
      sourcesContent: false,
      write: true,
      logLevel: "silent",
    });
    for (const path of listFiles(tmpDir, ".js")) {
      writeFileSync(path, rewriteSpecifiers(readFileSync(path, "utf8")));
    }
    carryModules(modules, tmpDir);
    try {
      renameSync(tmpDir, outDir);
    } catch (err) {
      // Another process renamed its mirror of the same sources into place first: use that one.
      if (!existsSync(main)) throw err;
      rmSync(tmpDir, { recursive: true, force: true });
    }
  } catch {
    rmSync(tmpDir, { recursive: true, force: true });
    return undefined;
  } finally {
    // esbuild's service (a child process, and the buffer it reads into) would stay for the life
    // of the command, whose resident memory is a host's.
    await esbuild?.stop();
  }
  // Mirrors of older sources that no process started from for a day.
  pruneUnused(cacheDir, /^js-[0-9a-f]+(\.tmp-\d+)?$/, outDir);
  return pathToFileURL(main).href;
}
