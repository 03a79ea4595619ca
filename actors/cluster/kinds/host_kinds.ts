/**
 * The kinds a cluster runs: troupe's own and the user's, from the `kinds` modules a host's
 * configuration names, loaded through the same door. What a host is handed, what replay and the
 * simulator run, and what `troupe run` names when it starts.
 */
import { ACTOR_KINDS } from "../../mod.ts";
import { kindRegistry, type LoadedKinds, loadKindModules } from "../../kind/mod.ts";
import { type AnyActorDefinition, ConfigError } from "../../../protocol/mod.ts";

/** The kinds a cluster runs. */
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
