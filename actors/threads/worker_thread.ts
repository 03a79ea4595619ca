/**
 * Worker threads that run troupe's TypeScript modules, started cheaply on both runtimes. Deno runs
 * TypeScript natively, so a worker starts from the module itself; so does a Node process running
 * troupe from its compiled mirror (cli/_compile.mjs), where the module is JavaScript. Under tsx
 * (the tests, `TROUPE_TSX=1`), a worker that registers tsx's loader first costs 400-800 ms and
 * ~30 MB before it runs a line of troupe. So there the module is bundled with esbuild (imports
 * included, npm packages too) into one JavaScript file under the OS temporary directory, and
 * workers start from that file (a `data:` URL of the same bundle starts 30-60 ms slower here). A
 * bundle takes ~80 ms to build; a manifest of the source files it was built from (their sizes and
 * modification times) lets the next process reuse it while none of them changed. esbuild is
 * imported only on Node, only when a bundle is built.
 *
 * Within a process a bundle is built or checked once: a long-lived process does not see later
 * edits. Each start from a bundle marks it used; a build removes bundles unused for a day. The
 * worker does not inherit tsx from the parent's `--import tsx` (it would load it for nothing); the
 * parent's other Node options pass through as usual.
 */
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker, type WorkerOptions } from "node:worker_threads";
import { markUsed, pruneUnused, writeAtomically } from "../files/mod.ts";

/** Options of `startWorker`: those of node:worker_threads' Worker, less what it decides itself. */
export type StartWorkerOptions = Omit<WorkerOptions, "eval" | "execArgv">;

const isDeno = "Deno" in globalThis;

/** Bundles built in this process, by the module's URL. */
const bundles = new Map<string, Promise<URL>>();
/** Bundles of several entries built in this process, by their URLs (one a line). */
const splitBundles = new Map<string, Promise<URL[]>>();

/**
 * Starts a worker thread running the module at `entry` (a `file:` URL of a .ts or .js module),
 * with node:worker_threads' options (`workerData`, `transferList`, `resourceLimits`, ...).
 */
export async function startWorker(entry: URL, options: StartWorkerOptions = {}): Promise<Worker> {
  if (isDeno) return new Worker(entry, options);
  const url = await workerModuleUrl(entry);
  return nodeWorker(url, options, workerExecArgv(process.execArgv));
}

/**
 * A URL from which a worker thread can import the module at `entry` with a plain `import()`: the
 * module itself on Deno, its bundle on Node (built on first use, then the same for the process).
 */
export function workerModuleUrl(entry: URL): Promise<URL> {
  if (runsAsIs(entry)) return Promise.resolve(entry);
  let url = bundles.get(entry.href);
  if (!url) {
    url = bundle(entry);
    bundles.set(entry.href, url);
    url.catch(() => bundles.delete(entry.href)); // a failed build is retried next time
  }
  return url;
}

/**
 * URLs from which one worker thread can import each of `entries` (its entry module first, then
 * the modules it imports by a URL it is given, such as the kinds a host thread runs), sharing
 * every module they have in common: one `ProtocolError` class, one copy of each module's state, as
 * when the sources run as they are. On Node from TypeScript they are bundled together, split into
 * shared chunks; elsewhere they are the modules themselves.
 */
export function workerModuleUrls(entries: readonly URL[]): Promise<URL[]> {
  if (entries.every(runsAsIs)) return Promise.resolve([...entries]);
  if (entries.length === 1) return workerModuleUrl(entries[0]!).then((url) => [url]);
  const key = entries.map((e) => e.href).join("\n");
  let urls = splitBundles.get(key);
  if (!urls) {
    urls = splitBundle(entries);
    splitBundles.set(key, urls);
    urls.catch(() => splitBundles.delete(key)); // a failed build is retried next time
  }
  return urls;
}

/**
 * Whether a worker can import `entry` without a bundle: on Deno, and a .js/.mjs module (troupe
 * running from its compiled mirror, cli/_compile.mjs, or a bundle already).
 */
function runsAsIs(entry: URL): boolean {
  return isDeno || entry.protocol !== "file:" || /\.m?js$/.test(entry.pathname);
}

/** Bumped when the bundle's build options change: bundles written before are rebuilt. */
const BUNDLE_FORMAT = 1;

/**
 * What a bundle was built from, kept next to it: the bundle is reused while its inputs are
 * unchanged.
 */
interface BundleManifest {
  format: number;
  node: string;
  bundle: string;
  /** Absolute path -> [mtime ms, size] of every source file in the bundle. */
  inputs: Record<string, [number, number]>;
}

/**
 * The bundle of `entry`: the one built before (by any process) while none of its sources changed,
 * else a fresh build, written under the temporary directory.
 */
async function bundle(entry: URL): Promise<URL> {
  const path = fileURLToPath(entry);
  const name = basename(path).replace(/\.[cm]?[jt]s$/, "");
  const dir = join(tmpdir(), "troupe-worker-bundles");
  const manifestPath = join(dir, `${name}-${hashOf(path)}.json`);
  const cached = reusable(manifestPath);
  if (cached) {
    markUsed(cached);
    return pathToFileURL(cached);
  }

  const absWorkingDir = process.cwd();
  const result = await buildBundle(path, absWorkingDir);
  const text = result.outputFiles[0]!.contents;
  const file = join(dir, `${name}-${hashOf(text)}.mjs`);
  mkdirSync(dir, { recursive: true });
  if (!existsSync(file)) writeAside(file, text);
  else markUsed(file);
  const inputs = inputsOf(result.metafile, absWorkingDir);
  // An input that is not a file: no manifest, build again next time.
  if (inputs !== undefined) writeManifest(manifestPath, file, inputs);
  pruneBundles(dir);
  return pathToFileURL(file);
}

/**
 * The bundle of several entries (see workerModuleUrls): a folder of one file an entry
 * (`e0.mjs`, `e1.mjs`, ...) and the chunks they share, reused like a bundle of one.
 */
async function splitBundle(entries: readonly URL[]): Promise<URL[]> {
  const paths = entries.map((e) => fileURLToPath(e));
  const name = basename(paths[0]!).replace(/\.[cm]?[jt]s$/, "");
  const dir = join(tmpdir(), "troupe-worker-bundles");
  const manifestPath = join(dir, `${name}-${hashOf(paths.join("\n"))}.json`);
  const urlsIn = (folder: string) => paths.map((_, i) => pathToFileURL(join(folder, `e${i}.mjs`)));
  const cached = reusable(manifestPath);
  if (cached) {
    markUsed(cached);
    return urlsIn(cached);
  }

  const absWorkingDir = process.cwd();
  const named = Object.fromEntries(paths.map((path, i) => [`e${i}`, path]));
  const result = await buildBundle(named, absWorkingDir);
  const h = createHash("sha256");
  for (const out of result.outputFiles) h.update(basename(out.path)).update(out.contents);
  const folder = join(dir, `${name}-${h.digest("hex").slice(0, 16)}`);
  mkdirSync(dir, { recursive: true });
  if (!existsSync(folder)) {
    // Written aside, then renamed: another process never reads half a folder.
    const part = `${folder}.${process.pid}.part`;
    mkdirSync(part, { recursive: true });
    for (const out of result.outputFiles) {
      writeFileSync(join(part, basename(out.path)), out.contents);
    }
    try {
      renameSync(part, folder);
    } catch {
      rmSync(part, { recursive: true, force: true }); // another process renamed its copy first
    }
  } else markUsed(folder);
  const inputs = inputsOf(result.metafile, absWorkingDir);
  if (inputs !== undefined) writeManifest(manifestPath, folder, inputs);
  pruneBundles(dir);
  return urlsIn(folder);
}

/** Each input of a build as its manifest keeps it; undefined when one is not a file. */
function inputsOf(
  metafile: { inputs: Record<string, unknown> },
  absWorkingDir: string,
): BundleManifest["inputs"] | undefined {
  const inputs: BundleManifest["inputs"] = {};
  for (const input of Object.keys(metafile.inputs)) {
    const abs = resolve(absWorkingDir, input);
    try {
      const st = statSync(abs);
      inputs[abs] = [st.mtimeMs, st.size];
    } catch {
      return undefined;
    }
  }
  return inputs;
}

function writeManifest(path: string, bundle: string, inputs: BundleManifest["inputs"]): void {
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    node: process.versions.node,
    bundle,
    inputs,
  };
  writeAside(path, JSON.stringify(manifest));
}

/**
 * Bundles `path` (ESM for this Node), in memory, with its metafile; several named entries into
 * one file each and the chunks they share.
 */
async function buildBundle(path: string | Record<string, string>, absWorkingDir: string) {
  const esbuild = await import("esbuild");
  const split = typeof path !== "string";
  try {
    return await esbuild.build({
      entryPoints: split ? path : [path],
      ...(split ? { splitting: true, outdir: absWorkingDir, outExtension: { ".js": ".mjs" } } : {}),
      absWorkingDir,
      bundle: true,
      format: "esm",
      platform: "node",
      target: `node${process.versions.node}`,
      write: false,
      metafile: true,
      logLevel: "silent",
      legalComments: "none",
      // CommonJS packages in the bundle (prom-client) call require() for Node's own modules.
      banner: {
        js: 'import { createRequire as __troupeRequire } from "node:module";\n' +
          "const require = __troupeRequire(import.meta.url);",
      },
    });
  } catch (err) {
    const errors = (err as { errors?: Array<{ text: string; location?: { file: string } }> })
      .errors;
    const first = errors?.[0];
    throw new Error(
      `Cannot bundle ${split ? Object.values(path).join(" and ") : path} for a worker thread: ${
        first ? `${first.location?.file ?? ""}: ${first.text}` : (err as Error).message
      }`,
      { cause: err },
    );
  }
}

/**
 * Removes bundles (and manifests) of older sources that no worker started from for a day: each
 * edit of a bundled source leaves one behind. Best effort, run after a build.
 */
function pruneBundles(dir: string): void {
  pruneUnused(dir, /-[0-9a-f]{16}(\.mjs|\.json)?$/);
}

/** The bundle a manifest names, when it exists and none of its inputs changed since. */
function reusable(manifestPath: string): string | undefined {
  let m: BundleManifest;
  try {
    m = JSON.parse(readFileSync(manifestPath, "utf8")) as BundleManifest;
  } catch {
    return undefined;
  }
  if (m.format !== BUNDLE_FORMAT || m.node !== process.versions.node) return undefined;
  if (!m.inputs || typeof m.bundle !== "string" || !existsSync(m.bundle)) return undefined;
  for (const [input, [mtimeMs, size]] of Object.entries(m.inputs)) {
    try {
      const st = statSync(input);
      if (st.mtimeMs !== mtimeMs || st.size !== size) return undefined;
    } catch {
      return undefined;
    }
  }
  return m.bundle;
}

/** Writes aside, then renames: another process never reads half a file (not flushed: a cache). */
function writeAside(file: string, data: string | Uint8Array): void {
  writeAtomically(file, data, { fsync: false, tmp: `${file}.${process.pid}.part` });
}

function hashOf(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex").slice(0, 16);
}

/**
 * The parent's Node options without tsx's loader, which a bundle does not need; undefined (inherit
 * them as they are) when there is none to drop. Node refuses some options given explicitly to a
 * worker that it accepts inherited (V8's); `startWorker` drops those it names.
 */
export function workerExecArgv(execArgv: readonly string[]): string[] | undefined {
  const out: string[] = [];
  let dropped = false;
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg : arg.slice(0, eq);
    if (LOADER_OPTIONS.has(name)) {
      const value = eq < 0 ? execArgv[i + 1] ?? "" : arg.slice(eq + 1);
      if (eq < 0) i++;
      if (TSX.test(value)) {
        dropped = true;
        continue;
      }
      out.push(arg);
      if (eq < 0) out.push(value);
      continue;
    }
    out.push(arg);
  }
  return dropped ? out : undefined;
}

const LOADER_OPTIONS = new Set([
  "--import",
  "--require",
  "-r",
  "--loader",
  "--experimental-loader",
]);
/** `tsx`, `tsx/esm`, a path into tsx's package. */
const TSX = /^tsx(\/|$)|[/\\]tsx([/\\]|$)/;

/** A Node worker; options Node refuses to give a worker explicitly are left out (and named). */
function nodeWorker(url: URL, options: StartWorkerOptions, execArgv: string[] | undefined): Worker {
  if (execArgv === undefined) return new Worker(url, options);
  try {
    return new Worker(url, { ...options, execArgv });
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code !== "ERR_WORKER_INVALID_EXEC_ARGV") throw err;
    // "Initiated Worker with invalid execArgv flags: --a=1, --b"
    const listed = e.message.slice(e.message.indexOf(":") + 1).split(",").map((s) => s.trim());
    const bad = new Set(listed);
    return new Worker(url, { ...options, execArgv: execArgv.filter((a) => !bad.has(a)) });
  }
}
