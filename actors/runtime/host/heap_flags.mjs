// @ts-self-types="./heap_flags.d.mts"
// The V8 flags of the `troupe` command's process on Node (cli/troupe.mjs), which a benchmark's
// child processes are given too (bench/_child_script.ts), so that a host measured in a child runs
// as under `troupe run`: the main thread's young generation capped at 32 MiB a semi-space (its
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
//
// The young generation is held at its first size (1 MiB a semi-space) until the old generation
// is as large as the young one may grow (two semi-spaces at the cap), then left to V8, which
// grows it while its collections find much alive, up to the cap. What a large young generation
// buys is fewer promotions, each of which a full marking of the old generation later pays for;
// that marking costs what the old generation holds. A host of a few thousand channels holds
// less than the cap's 64 MiB, so its markings are cheap and a young generation of 64 MiB would
// be the largest part of its memory under load; a host of many channels holds more, and its
// young generation grows as before. V8 reads the growth factor each time it would grow (a value
// of 1 keeps the size), but clamps a value under 2 given on the command line, so it is set here.
// The factor is the process's: worker threads' young generations are held, and let go, with the
// main thread's. A `--semi-space-growth-factor` of the user's stays.
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";
import process from "node:process";

/** The main thread's semi-space cap, given on node's command line (`#!` of cli/troupe.mjs). */
export const SEMI_SPACE_FLAG = "--max-semi-space-size=32";

/** The flag set once the process runs. */
export const PRETENURING_FLAG = "--no-allocation-site-pretenuring";

/**
 * glibc's malloc asked to back the memory it maps with transparent huge pages (`madvise`), given
 * in the environment (`GLIBC_TUNABLES`, read when the process starts: the `#!` line of
 * cli/troupe.mjs puts it before the user's own, which then win). A host's kernels keep their
 * numbers in array buffers, which malloc holds; a start restoring 100,000 of them touches every
 * page of that memory once, and with 2 MiB pages takes a fault per 2 MiB instead of per 4 KiB.
 * Where THP is `always` or `never`, or malloc is not glibc's, it changes nothing.
 *
 * It also fixes malloc's thresholds: a block of 1 MiB or more is mapped on its own (and unmapped
 * when freed), and the top of malloc's heap is given back to the system once 2 MiB of it are
 * free. Left alone, glibc raises both to the largest mapped block freed (the trim threshold to
 * twice that), up to 32 and 64 MiB, for programs that free large blocks and soon want them again;
 * once a large block is freed, a host's array buffers (socket reads, frames' columns), freed in
 * bursts at each collection, may then stay resident up to that much atop the heap. 1 MiB is
 * above the blocks a host makes and frees by the thousand (the frame codec's 256 KiB slabs),
 * which malloc then takes from its heap rather than mapping and faulting them in afresh each time
 * (docs/small_host_memory.md).
 */
export const MALLOC_TUNABLES =
  "glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=1048576:glibc.malloc.trim_threshold=2097152";

/**
 * The `GLIBC_TUNABLES` a child process is started with: `given` (this process's), with
 * MALLOC_TUNABLES before it unless it starts with them already (the command's `#!` line put them
 * there). What `given` says after them wins.
 */
export function mallocTunablesFor(given) {
  if (given !== undefined && given.startsWith(MALLOC_TUNABLES)) return given;
  return given ? `${MALLOC_TUNABLES}:${given}` : MALLOC_TUNABLES;
}

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
 * flags speak of it; sets the semi-space cap of the worker threads to come to what NODE_OPTIONS
 * gives (the user's, for every thread it can still reach), or unsets it (0 is V8's "not given")
 * so that each worker gets its own limits; and, with `holdYoung` (the default), holds the young
 * generation at its size until the old generation is as large as the young one's cap (two
 * semi-spaces of the main thread's cap), unless the user's flags speak of its growth.
 */
export function applyHeapFlags({ holdYoung = true } = {}) {
  const options = process.env.NODE_OPTIONS ?? "";
  const given = `${options} ${(process.execArgv ?? []).join(" ")}`;
  if (!/pretenuring/.test(given)) setFlagsFromString(PRETENURING_FLAG);
  setFlagsFromString(`--max-semi-space-size=${semiSpaceOf(options) ?? 0}`);
  if (holdYoung && !/semi-space-growth-factor/.test(given)) {
    const semiSpaceMb = Number(semiSpaceOf(given) ?? V8_SEMI_SPACE_MB);
    holdYoungGeneration(2 * semiSpaceMb * 1024 * 1024);
  }
}

/**
 * The commands whose process is a computation run to its end rather than a service that stays
 * up: their young generation is not held, as what they are measured by is their speed (a held
 * one makes more scavenges and promotions), and their memory is theirs only while they run.
 */
export const UNHELD_COMMANDS = new Set(["bench", "replay", "sim"]);

/** The young generation kept at its size: V8 grows a semi-space by this factor. */
export const YOUNG_HELD_FLAG = "--semi-space-growth-factor=1";

/** V8's own growth factor, which lets the young generation grow to its cap. */
export const YOUNG_GROWING_FLAG = "--semi-space-growth-factor=2";

/** Node 20's semi-space cap where no flag gives one, MiB. */
const V8_SEMI_SPACE_MB = 16;

/** The registry watching the young generation's hold, while it holds. */
let youngHold;

/**
 * Holds the young generation at its size until the old generation (every space but the young
 * one) holds `youngCapBytes` just after a full collection, when what it holds is what is alive;
 * then lets V8 grow it. A full collection is seen by a canary: an object nothing holds, watched
 * by a FinalizationRegistry, whose cleanup V8 runs after the full collection that frees it (a
 * scavenge keeps what a registry watches); short of the cap, the cleanup sets another canary. A
 * `gc` PerformanceObserver would see the same collections, but for an observer Node makes an
 * entry and calls into JavaScript at every collection, the scavenges too: in a busy small host,
 * which never lets go, one every few milliseconds for as long as it runs.
 */
export function holdYoungGeneration(youngCapBytes) {
  setFlagsFromString(YOUNG_HELD_FLAG);
  const registry = new FinalizationRegistry(() => {
    if (oldGenerationBytes() < youngCapBytes) registry.register({}, 0);
    else {
      setFlagsFromString(YOUNG_GROWING_FLAG);
      youngHold = undefined;
    }
  });
  registry.register({}, 0);
  // Held here: a registry no one holds is collected, and its canaries' cleanups never run.
  youngHold = registry;
}

/** Whether the young generation is held (`holdYoungGeneration`) and not yet let go. */
export function youngGenerationHeld() {
  return youngHold !== undefined;
}

/** The bytes the heap's spaces other than the young generation's hold (dead ones among them). */
export function oldGenerationBytes() {
  let bytes = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (!space.space_name.startsWith("new_")) bytes += space.space_used_size;
  }
  return bytes;
}

/** The last `--max-semi-space-size` value `flags` give, or undefined. */
function semiSpaceOf(flags) {
  let value;
  for (const m of flags.matchAll(/--max-semi-space-size[= ](\d+)/g)) value = m[1];
  return value;
}

/**
 * What to tell a user whose NODE_OPTIONS (`nodeOptions`) asks for a semi-space cap other than the
 * one node's command line (`execArgv`: the `#!` line of the command at `script`) gives, which
 * Node lets win: that theirs is not applied, and how to start node with it. Undefined otherwise.
 */
export function semiSpaceNotice(nodeOptions, execArgv, script) {
  const wanted = semiSpaceOf(nodeOptions);
  const given = semiSpaceOf(execArgv.join(" "));
  if (wanted === undefined || given === undefined || wanted === given) return undefined;
  return `troupe: NODE_OPTIONS asks for --max-semi-space-size=${wanted}, but node's command ` +
    `line (the troupe command's own) gives ${given}, and Node lets its command line win; ` +
    `to run with ${wanted}, start node yourself: ` +
    `node --max-semi-space-size=${wanted} ${script} ...`;
}
