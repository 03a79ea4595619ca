/**
 * A user's kinds, plugged in by configuration: `"kinds": ["./actors/spread.ts",
 * "troupe-kinds-acme"]` in a host's configuration names modules, each a path (relative to the
 * configuration file) or a package name. Each module's exports that are actor kinds (what
 * `defineKind` returns, or an array of them) join troupe's own kinds, through the same door
 * (`registerKind`).
 *
 * Deno and Node under a TypeScript loader import a `.ts` module as it is. Node alone cannot, so
 * there a `.ts` module is transpiled once, with esbuild, into a `.mjs` file beside the project's
 * node_modules (`node_modules/.cache/troupe-kinds/`), its own relative imports bundled in and
 * packages left to Node; `troupe` and `troupe/testing` are pointed at the troupe that is running,
 * so the kinds and the host share one copy of it. The file is rebuilt when the module changes.
 * Worker threads import the same URL (`LoadedKinds.url`).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type AnyActorDefinition, ConfigError } from "../../protocol/mod.ts";
import { registerKind } from "./register_kind.ts";

/** Kind modules one configuration may name, at most. */
export const KIND_MODULES_MAX = 64;

/** A module of a user's kinds, loaded. */
export interface LoadedKinds {
  /** As the configuration names it. */
  spec: string;
  /** The URL imported (a transpiled file's on Node for a `.ts` module): what threads import. */
  url: string;
  /** The module's own file (absolute), as resolved from the configuration. */
  file: string;
  kinds: AnyActorDefinition[];
}

const isDeno = "Deno" in globalThis;

/** Whether `value` looks like an actor kind (a definition made by defineKind or by hand). */
export function isKindDefinition(value: unknown): value is AnyActorDefinition {
  const v = value as Partial<AnyActorDefinition> | null;
  return v !== null && typeof v === "object" && typeof v.kind === "string" &&
    typeof v.kernel === "object" && typeof v.parseConfig === "function";
}

/** The kinds a module's namespace exports (each export, or an array of them), deduplicated. */
export function kindsOfModule(ns: Record<string, unknown>): AnyActorDefinition[] {
  const found = new Set<AnyActorDefinition>();
  for (const value of Object.values(ns)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (isKindDefinition(v)) found.add(v);
    }
  }
  return [...found];
}

/**
 * Loads the kind modules `specs`, paths resolved from `baseDir`; throws ConfigError naming
 * `path`, the module and what is wrong (not found, no kinds exported, a bad definition).
 */
export async function loadKindModules(
  specs: readonly string[],
  baseDir: string,
  path = "kinds",
): Promise<LoadedKinds[]> {
  if (specs.length > KIND_MODULES_MAX) {
    throw new ConfigError(
      path,
      `${path} names ${specs.length} modules, at most ${KIND_MODULES_MAX}`,
    );
  }
  const out: LoadedKinds[] = [];
  for (const [i, spec] of specs.entries()) {
    const at = `${path}[${i}]`;
    const file = resolveKindModule(spec, baseDir, at);
    let url = pathToFileURL(file).href;
    let ns: Record<string, unknown>;
    try {
      ns = await import(url);
    } catch (err) {
      if (!needsTranspile(file, err)) throw cannotLoad(at, spec, err);
      url = await transpiledKindModule(file);
      try {
        ns = await import(url);
      } catch (err2) {
        throw cannotLoad(at, spec, err2);
      }
    }
    const kinds = kindsOfModule(ns);
    if (kinds.length === 0) {
      throw new ConfigError(
        at,
        `Kind module "${spec}" (${file}) exports no actor kind: export what defineKind returns`,
        { value: spec },
      );
    }
    for (const def of kinds) registerKind(def);
    out.push({ spec, url, file, kinds });
  }
  return out;
}

function cannotLoad(at: string, spec: string, err: unknown): ConfigError {
  return new ConfigError(
    at,
    `Cannot load kind module "${spec}": ${(err as Error)?.message ?? String(err)}`,
    { value: spec, cause: err },
  );
}

/** The file of `spec`: a path from `baseDir`, or a package resolved from there. */
function resolveKindModule(spec: string, baseDir: string, at: string): string {
  if (typeof spec !== "string" || spec === "") {
    throw new ConfigError(at, `${at} must name a module (a path or a package)`, { value: spec });
  }
  // A path (`./x.ts`, `/abs/x.ts`, or a file that is there); else a package name.
  if (spec.startsWith(".") || isAbsolute(spec) || existsSync(resolve(baseDir, spec))) {
    const file = resolve(baseDir, spec);
    if (!existsSync(file)) {
      throw new ConfigError(at, `Kind module "${spec}" not found: no file ${file}`, {
        value: spec,
      });
    }
    return file;
  }
  try {
    return createRequire(join(baseDir, "noop.js")).resolve(spec);
  } catch (err) {
    throw new ConfigError(
      at,
      `Kind module "${spec}" not found: no package of that name from ${baseDir} (${
        (err as Error).message.split("\n")[0]
      })`,
      { value: spec, cause: err },
    );
  }
}

function needsTranspile(file: string, err: unknown): boolean {
  return !isDeno && /\.[mc]?ts$/.test(file) &&
    (err as { code?: string })?.code === "ERR_UNKNOWN_FILE_EXTENSION";
}

/** The URL of troupe's own entry `name` (mod or testing), as this copy of troupe runs it. */
function troupeEntry(name: "mod" | "testing"): string {
  // In troupe's compiled mirror and its built package this file is JavaScript, and so is the
  // entry beside it; in the sources, TypeScript.
  const ext = import.meta.url.endsWith(".ts") ? "ts" : "js";
  return fileURLToPath(new URL(`../../${name}.${ext}`, import.meta.url));
}

/** Transpiles a `.ts` kind module for Node; returns the URL of the `.mjs` file. */
async function transpiledKindModule(file: string): Promise<string> {
  const cacheDir = join(nodeModulesAbove(dirname(file)) ?? dirname(file), ".cache", "troupe-kinds");
  const esbuild = await import("esbuild");
  const entries = { troupe: troupeEntry("mod"), "troupe/testing": troupeEntry("testing") };
  const result = await esbuild.build({
    entryPoints: [file],
    bundle: true,
    packages: "external",
    format: "esm",
    platform: "node",
    target: "node20",
    write: false,
    logLevel: "silent",
    plugins: [{
      name: "troupe-running",
      setup(build) {
        build.onResolve({ filter: /^troupe(\/testing)?$/ }, (args) => ({
          path: pathToFileURL(entries[args.path as keyof typeof entries]).href,
          external: true,
        }));
      },
    }],
  });
  const text = result.outputFiles[0]!.text;
  const hash = createHash("sha256").update(file).update(text).digest("hex").slice(0, 16);
  const name = file.replace(/^.*[\\/]/, "").replace(/\.[mc]?ts$/, "");
  const out = join(cacheDir, `${name}-${hash}.mjs`);
  if (!existsSync(out) || readFileSync(out, "utf8") !== text) {
    mkdirSync(cacheDir, { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, out);
  }
  return pathToFileURL(out).href;
}

/** The nearest node_modules folder at or above `dir`, if any. */
function nodeModulesAbove(dir: string): string | undefined {
  for (let d = dir;; d = dirname(d)) {
    const nm = join(d, "node_modules");
    if (existsSync(nm) && statSync(nm).isDirectory()) return nm;
    if (dirname(d) === d) return undefined;
  }
}
