/**
 * A cluster's kinds as a recording's header names them, so that a replay loads the same modules:
 * troupe's own kinds need no naming; a team's module is named by its package, or by its file.
 */
import { isAbsolute } from "node:path";
import type { HostKinds } from "../../actors/cluster/kinds/mod.ts";
import type { LoadedKinds } from "../../actors/kind/mod.ts";
import type { RecordingKindModule } from "./recording.ts";

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
