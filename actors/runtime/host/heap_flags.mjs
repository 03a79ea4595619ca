// @ts-self-types="./heap_flags.d.mts"
// The V8 flags of the `troupe` command's process on Node (cli/troupe.mjs), which a benchmark's
// child processes are given too (bench/_child_script.ts), so that a host measured in a child runs
// as under `troupe run`: the main thread's young generation capped at 4 MiB a semi-space (its
// reasons: cli/troupe.mjs; given on the command line, as V8 reads it when it makes the main
// isolate's heap, then unset so that worker threads get their own limits), and allocation-site
// pretenuring off, for every thread. Deno's `node:v8` takes the call but sets no flag (measured):
// there, pass `--v8-flags=--no-allocation-site-pretenuring` to `deno run`.
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

/** The main thread's semi-space cap, given on node's command line (`#!` of cli/troupe.mjs). */
export const SEMI_SPACE_FLAG = "--max-semi-space-size=4";

/** The flag set once the process runs. */
export const PRETENURING_FLAG = "--no-allocation-site-pretenuring";

/**
 * The flags a child process is started with, less those `given` (its own flags, as a command
 * line or NODE_OPTIONS holds them) speaks of already.
 */
export function heapFlagsFor(given) {
  const flags = [];
  if (!/--max-semi-space-size/.test(given)) flags.push(SEMI_SPACE_FLAG);
  if (!/pretenuring/.test(given)) flags.push(PRETENURING_FLAG);
  return flags;
}

/**
 * Once the main isolate is made: turns allocation-site pretenuring off, unless the user's own
 * flags speak of it, and unsets the semi-space cap for the worker threads to come (0 is V8's
 * "not given"), unless NODE_OPTIONS gives it (then it is the user's, for every thread).
 */
export function applyHeapFlags() {
  const options = process.env.NODE_OPTIONS ?? "";
  const given = `${options} ${(process.execArgv ?? []).join(" ")}`;
  if (!/pretenuring/.test(given)) setFlagsFromString(PRETENURING_FLAG);
  if (!/--max-semi-space-size/.test(options)) setFlagsFromString("--max-semi-space-size=0");
}
