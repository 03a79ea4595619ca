// A V8 flag the `troupe` command's process runs with on Node (cli/troupe.mjs): allocation-site
// pretenuring off. Deno's `node:v8` takes the call but sets no flag (measured): there, pass
// `--v8-flags=--no-allocation-site-pretenuring` to `deno run`.
//
// V8 pretenures an allocation site (a literal, a constructor call) once most of the objects it
// made were found alive at a young-generation collection: from then on the site allocates
// straight into the old generation, where only a full collection frees them. A host's objects
// are short-lived (decoded frames, kernels' results, events, records), but a collection that
// lands while a batch of frames is being applied finds that batch's objects alive, so hot sites
// get pretenured and every later frame's objects go to the old generation, which then grows by
// ~12 MB a second between full collections. With pretenuring off, what outlives a scavenge is
// copied once more and promoted only if it outlives the next. Measured (docs/configuration.md,
// Memory): `troupe bench pipeline --channels 1000`, the host's peak resident memory 166-195 MB
// with it, 140-145 MB without, samples/s the same; a host of 100,001 instances (`troupe bench
// remote-write --channels 25000`) stops in 3.8-3.9 s, not 6.0 (its stop's snapshots were going
// straight to the old generation, a full collection a second), starts as fast. Plain JavaScript:
// it runs before any TypeScript loads. A flag about pretenuring in NODE_OPTIONS or on node's
// command line is the user's and stays.
import { setFlagsFromString } from "node:v8";
import process from "node:process";

/** The flags, as Node's command line takes them. */
export const HEAP_FLAGS = Object.freeze(["--no-allocation-site-pretenuring"]);

/** Whether `flags` (a command line's, NODE_OPTIONS) already speak of pretenuring. */
export function speaksOfHeapFlags(flags) {
  return /pretenuring/.test(flags);
}

/** Turns allocation-site pretenuring off, unless the user's own flags speak of it. */
export function applyHeapFlags() {
  const given = `${process.env.NODE_OPTIONS ?? ""} ${(process.execArgv ?? []).join(" ")}`;
  if (speaksOfHeapFlags(given)) return;
  for (const flag of HEAP_FLAGS) setFlagsFromString(flag);
}
