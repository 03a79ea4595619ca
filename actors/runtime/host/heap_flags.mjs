// A V8 flag the `troupe` command's process runs with on Node (cli/troupe.mjs): allocation-site
// pretenuring off. Deno's `node:v8` takes the call but sets no flag (measured): there, pass
// `--v8-flags=--no-allocation-site-pretenuring` to `deno run`.
//
// V8 pretenures an allocation site (a literal, a constructor call) once most of the objects it
// made were found alive at a young-generation collection: from then on the site allocates
// straight into the old generation, where only a full collection frees them. A host's objects
// are short-lived (decoded frames, kernels' results, events, records, a stop's snapshots), but a
// collection that lands while a batch is being applied finds that batch's objects alive, so hot
// sites get pretenured and every later batch's objects go to the old generation, which then
// grows between full collections and is marked again at each. With pretenuring off, what
// outlives a scavenge is copied once more and promoted only if it outlives the next: a host's
// peak memory under load and a large host's stop came down, its throughput and its start did not
// move (the figures: docs/configuration.md, Memory). Plain JavaScript: it runs before any
// TypeScript loads. A flag about pretenuring in NODE_OPTIONS or on node's command line is the
// user's and stays.
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
