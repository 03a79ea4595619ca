/**
 * The kinds a command is given on its command line (`--kinds`) or finds in a recording's header,
 * as the cluster's HostKinds: a module that cannot be loaded is a usage error naming it.
 */
import { resolve } from "node:path";
import { BUILT_IN_KINDS, type HostKinds, hostKinds } from "../actors/cluster/kinds/mod.ts";
import { ConfigError } from "../protocol/mod.ts";
import type { RecordingKindModule } from "../sim/recording/mod.ts";
import { UsageError } from "./args.ts";

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
