/**
 * The kinds a command runs: troupe's own and the user's, from the `kinds` modules a host's
 * configuration names (or `--kinds`), loaded through the same door. What a host is handed, what
 * replay and the simulator run, and what `troupe run` names when it starts.
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { ACTOR_KINDS } from "../actors/mod.ts";
import { kindRegistry, type LoadedKinds, loadKindModules } from "../actors/kind/mod.ts";
import { type AnyActorDefinition, ConfigError } from "../protocol/mod.ts";
import type { RecordingKindModule } from "../sim/recording/mod.ts";
import { UsageError } from "./args.ts";

/** The kinds a command runs. */
export interface HostKinds {
  /** Every kind by name: troupe's own, then the user's. */
  registry: Readonly<Record<string, AnyActorDefinition>>;
  /** The user's modules, as loaded (their URLs are what threads import). */
  modules: LoadedKinds[];
}

/** Only troupe's own kinds. */
export const BUILT_IN_KINDS: HostKinds = { registry: ACTOR_KINDS, modules: [] };

/**
 * The kinds of `specs` (paths from `baseDir`, or packages) beside troupe's own; throws
 * ConfigError naming `path`, the module and what is wrong, and on a name taken twice.
 */
export async function hostKinds(
  specs: readonly string[],
  baseDir: string,
  path = "kinds",
): Promise<HostKinds> {
  if (specs.length === 0) return BUILT_IN_KINDS;
  const modules = await loadKindModules(specs, baseDir, path);
  const user = modules.flatMap((m) => m.kinds);
  for (const def of user) {
    if (ACTOR_KINDS[def.kind] !== undefined) {
      throw new ConfigError(
        path,
        `Kind module "${
          modules.find((m) => m.kinds.includes(def))!.spec
        }" defines a kind named "${def.kind}", which is one of troupe's own: choose another name`,
        { value: def.kind },
      );
    }
  }
  return { registry: kindRegistry([...Object.values(ACTOR_KINDS), ...user]), modules };
}

/** The `kinds` list of a raw configuration object, checked; [] when absent. */
export function kindSpecsOf(raw: unknown, path = "kinds"): string[] {
  const list = (raw as { kinds?: unknown } | null)?.kinds;
  if (list === undefined) return [];
  if (!Array.isArray(list) || list.some((s) => typeof s !== "string" || s === "")) {
    throw new ConfigError(
      path,
      `Field "${path}" must be a list of module paths or package names, got ${
        JSON.stringify(list)
      }`,
      { value: list },
    );
  }
  return list as string[];
}

/**
 * `--kinds a.ts,b.ts` (paths from the working directory) as HostKinds; a module that cannot be
 * loaded is a UsageError naming it.
 */
export async function kindsOption(
  value: string | undefined,
  option = "--kinds",
): Promise<HostKinds> {
  if (value === undefined || value.trim() === "") return BUILT_IN_KINDS;
  const specs = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  try {
    return await hostKinds(specs, resolve("."), option);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`Option ${option}: ${err.message}`);
    throw err;
  }
}

/**
 * The user's modules of `kinds` as a recording's header names them: a package by its name, a
 * path by its absolute file, each with the versions of the kinds it defined.
 */
export function recordingKindsOf(kinds: HostKinds): RecordingKindModule[] {
  return kinds.modules.map((m) => ({
    module: isPackage(m) ? m.spec : m.file,
    kinds: Object.fromEntries(m.kinds.map((k) => [k.kind, k.version])),
  }));
}

/** Whether a module was named as a package (not a path): it resolves where it is installed. */
function isPackage(m: LoadedKinds): boolean {
  return !m.spec.startsWith(".") && !isAbsolute(m.spec) && /[\\/]node_modules[\\/]/.test(m.file);
}

/**
 * The kinds a recording was made with, loaded from the modules its header names (paths as
 * written, packages from the working directory); a module that cannot be loaded is a UsageError
 * naming it and saying how to name it instead.
 */
export async function recordedKinds(
  modules: readonly RecordingKindModule[],
  recording: string,
): Promise<HostKinds> {
  try {
    return await hostKinds(modules.map((m) => m.module), resolve("."), `${recording} kinds`);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new UsageError(
      `The recording was made with kinds of your own: ${err.message}; name their modules ` +
        "with --kinds",
    );
  }
}

/** The folder a configuration file's relative module paths are read from. */
export function configDir(configPath: string): string {
  return dirname(resolve(configPath));
}
