/**
 * Worker threads that run troupe's TypeScript modules, started cheaply on both runtimes. Deno runs
 * TypeScript natively, so a worker starts from the module itself. Node does not: a worker that
 * registers tsx's loader first costs 400-800 ms and ~30 MB before it runs a line of troupe. So on
 * Node the module is bundled once per process with esbuild (imports included, npm packages too)
 * into one JavaScript file under the OS temporary directory, named after a hash of its content, and
 * workers start from that file. esbuild is imported only on Node, only when a bundle is needed.
 *
 * A bundle is a snapshot of the sources when it was built: a long-lived process does not see later
 * edits. The worker does not inherit tsx from the parent's `--import tsx` (it would load it for
 * nothing); the parent's other Node options pass through as usual.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker, type WorkerOptions } from "node:worker_threads";

/** Options of `startWorker`: those of node:worker_threads' Worker, less what it decides itself. */
export type StartWorkerOptions = Omit<WorkerOptions, "eval" | "execArgv">;

const isDeno = "Deno" in globalThis;

/** Bundles built in this process, by the module's URL. */
const bundles = new Map<string, Promise<URL>>();

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
  if (isDeno || entry.protocol !== "file:") return Promise.resolve(entry);
  let url = bundles.get(entry.href);
  if (!url) {
    url = bundle(entry);
    bundles.set(entry.href, url);
    url.catch(() => bundles.delete(entry.href)); // a failed build is retried next time
  }
  return url;
}

/** Builds the bundle of `entry` and writes it (once per content) under the temporary directory. */
async function bundle(entry: URL): Promise<URL> {
  const esbuild = await import("esbuild");
  const path = fileURLToPath(entry);
  let result;
  try {
    result = await esbuild.build({
      entryPoints: [path],
      bundle: true,
      format: "esm",
      platform: "node",
      target: `node${process.versions.node}`,
      write: false,
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
      `Cannot bundle ${path} for a worker thread: ${
        first ? `${first.location?.file ?? ""}: ${first.text}` : (err as Error).message
      }`,
      { cause: err },
    );
  }
  const text = result.outputFiles[0]!.contents;
  const hash = createHash("sha256").update(text).digest("hex").slice(0, 16);
  const dir = join(tmpdir(), "troupe-worker-bundles");
  const file = join(dir, `${basename(path).replace(/\.[cm]?[jt]s$/, "")}-${hash}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    // Written aside, then renamed: another process starting the same bundle never reads half a file.
    const part = `${file}.${process.pid}.part`;
    writeFileSync(part, text);
    renameSync(part, file);
  }
  return pathToFileURL(file);
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
