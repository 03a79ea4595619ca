/**
 * The module check: what a kind's module does when it loads stays out of its outputs. A host
 * process loads the module once and a replay in another process loads it again, so a value the
 * module takes when it loads (`const seed = Math.random()`, `const t0 = Date.now()`), a clock or
 * random function it keeps a reference to (`const rnd = Math.random`, which `checkPure`'s shut
 * doors cannot catch), or a counter at module level makes the two disagree. The check imports
 * the module twice more, each time as a fresh instance (its URL with a query of its own, which
 * Node, tsx and Deno each load anew), with the clock and random functions watched while it loads:
 * a read during the load fails, a reference taken then fails when a kernel calls it, and the two
 * instances' runs of the same frames must publish the same bytes. Only the module named is loaded
 * anew: modules it imports are the process's, loaded once.
 */
import type { AnyActorDefinition, SampleFrame } from "../../protocol/mod.ts";
import { KindCheckError } from "./kit_error.ts";
import { type KindRunOptions, runKind } from "./kind_run.ts";
import { describeDifference, firstDifference, outputCount } from "./first_difference.ts";
import { OUTSIDE_STATE_HINT } from "./check_save_load.ts";

/** Options of `checkModule`: those of the kit's runs, and which export is the kind. */
export interface CheckModuleOptions extends Omit<KindRunOptions, "reload"> {
  /** The export that is the kind; default the module's `default`, else its one kind. */
  exportName?: string;
}

/** Where the watched functions are: loading a module, running a kernel, or neither. */
interface Watch {
  phase: "idle" | "loading" | "running";
  /** The module being loaded or run, for messages. */
  module: string;
  /** Its file's path, as stack traces name it: only its own calls count. */
  path: string;
  /** What the module read while it loaded. */
  readAtLoad: string[];
}

const watch: Watch = { phase: "idle", module: "", path: "", readAtLoad: [] };
let freshCount = 0;

/**
 * Throws KindCheckError when the module at `url` reads the clock or randomness as it loads, keeps
 * a reference to them that its kernel calls, or when two fresh instances of it publish different
 * bytes over `frames`; returns the outputs compared.
 */
export async function checkModule(
  url: string | URL,
  frames: readonly SampleFrame[],
  options: CheckModuleOptions = {},
): Promise<{ outputs: number }> {
  const href = String(url);
  if (!/^[a-z][a-z0-9+.-]*:/i.test(href)) {
    throw new TypeError(
      `checkModule() takes the module's URL, such as new URL("./level.ts", import.meta.url), ` +
        `got "${href}"`,
    );
  }
  const { exportName, ...runOptions } = options;
  // Its imports are loaded once here, outside the watch: only the module itself is loaded anew.
  await import(href);
  const first = await freshKind(href, exportName);
  const second = await freshKind(href, exportName);
  const a = watchedRun(first, href, frames, runOptions);
  const b = watchedRun(second, href, frames, runOptions);
  const d = firstDifference(a, b);
  if (d !== undefined) {
    throw new KindCheckError(
      `${first.kind}: two fresh loads of ${href} publish different bytes over the same frames at ${
        describeDifference(d, frames, "from the second load")
      }; ${OUTSIDE_STATE_HINT}`,
    );
  }
  return { outputs: outputCount(a) };
}

/** The kind of a fresh instance of the module at `href`, loaded with clock and random watched. */
async function freshKind(href: string, exportName: string | undefined) {
  const fresh = new URL(href);
  fresh.searchParams.set("troupe-kit-fresh", String(++freshCount));
  const restore = installWatch();
  watch.phase = "loading";
  watch.module = href;
  watch.path = pathOf(href);
  watch.readAtLoad = [];
  let mod: Record<string, unknown>;
  try {
    mod = await import(fresh.href);
  } finally {
    watch.phase = "idle";
    restore();
  }
  if (watch.readAtLoad.length > 0) {
    throw new KindCheckError(
      `${href} reads ${
        [...new Set(watch.readAtLoad)].join(" and ")
      } while it loads (at module level): each process that loads it gets another value, so a ` +
        "replay in another process differs; take time from the samples and ticks and " +
        "randomness from ctx.random(seq) inside the kernel",
    );
  }
  return kindOf(mod, href, exportName);
}

/** Runs `def` over `frames` with the references its module took armed to fail. */
function watchedRun(
  def: AnyActorDefinition,
  href: string,
  frames: readonly SampleFrame[],
  options: Omit<KindRunOptions, "reload">,
) {
  watch.phase = "running";
  watch.module = href;
  watch.path = pathOf(href);
  try {
    return runKind(def, frames, options);
  } catch (err) {
    // The host wraps a kernel's throw in its own error: the kit's reason is in the chain.
    for (let e: unknown = err; e instanceof Error; e = e.cause) {
      if (e instanceof KindCheckError) throw e;
    }
    throw err;
  } finally {
    watch.phase = "idle";
  }
}

/** Whether `v` is an actor kind's definition. */
function isKind(v: unknown): v is AnyActorDefinition {
  const d = v as Partial<AnyActorDefinition> | null;
  return typeof d === "object" && d !== null && typeof d.kind === "string" &&
    typeof d.kernel?.step === "function" && typeof d.parseConfig === "function";
}

function kindOf(
  mod: Record<string, unknown>,
  href: string,
  exportName: string | undefined,
): AnyActorDefinition {
  if (exportName !== undefined) {
    const v = mod[exportName];
    if (!isKind(v)) {
      throw new KindCheckError(`${href} has no kind exported as "${exportName}"`);
    }
    return v;
  }
  if (isKind(mod.default)) return mod.default;
  const kinds = Object.entries(mod).filter(([, v]) => isKind(v));
  if (kinds.length !== 1) {
    throw new KindCheckError(
      `${href} exports ${
        kinds.length === 0 ? "no kind" : `${kinds.length} kinds (${kinds.map(([k]) => k)})`
      } and no default one: name it with { exportName }`,
    );
  }
  return kinds[0]![1] as AnyActorDefinition;
}

/**
 * Replaces the clock and random functions with watched ones until the returned function puts the
 * real ones back. A watched function notes a read while a module loads and fails while a kernel
 * runs; a module that took one keeps it, and outside the kit's runs it is the real one.
 */
function installWatch(): () => void {
  const g = globalThis as unknown as {
    Date: DateConstructor;
    performance: { now: () => number };
    crypto?: { getRandomValues: <T extends ArrayBufferView>(a: T) => T };
  };
  const RealDate = g.Date;
  const realNow = RealDate.now, realPerfNow = g.performance.now, realRandom = Math.random;
  const realGetRandom = g.crypto?.getRandomValues;
  const watched = <F extends (...args: never[]) => unknown>(what: string, real: F): F =>
    ((...args: never[]) => {
      seen(what);
      return real(...args);
    }) as F;
  const WatchedDate = function (this: unknown, ...args: unknown[]) {
    if (args.length === 0) seen("the wall clock (new Date())");
    // deno-lint-ignore no-explicit-any
    return new (RealDate as any)(...args);
  } as unknown as DateConstructor;
  Object.setPrototypeOf(WatchedDate, RealDate);
  WatchedDate.now = watched("the wall clock (Date.now)", realNow);
  g.Date = WatchedDate;
  g.performance.now = watched("the clock (performance.now)", realPerfNow.bind(g.performance));
  Math.random = watched("Math.random", realRandom);
  if (g.crypto && realGetRandom) {
    g.crypto.getRandomValues = watched(
      "crypto.getRandomValues",
      realGetRandom.bind(g.crypto),
    ) as typeof realGetRandom;
  }
  return () => {
    g.Date = RealDate;
    g.performance.now = realPerfNow;
    Math.random = realRandom;
    if (g.crypto && realGetRandom) g.crypto.getRandomValues = realGetRandom;
  };
}

/** The path of the module at `href`, as stack traces give it. */
function pathOf(href: string): string {
  const url = new URL(href);
  return url.protocol === "file:"
    ? decodeURIComponent(url.pathname)
    : `${url.origin}${url.pathname}`;
}

/**
 * A watched function was called: noted while loading, refused while a kernel runs, when the call
 * comes from the module's own code (the process's other code, a timer, may call them meanwhile).
 */
function seen(what: string): void {
  if (watch.phase === "idle") return;
  const stack = new Error().stack ?? "";
  if (!stack.includes(watch.path)) return;
  if (watch.phase === "loading") watch.readAtLoad.push(what);
  if (watch.phase === "running") {
    throw new KindCheckError(
      `${watch.module}: a kernel calls ${what} through a reference its module took when it ` +
        "loaded (such as const rnd = Math.random): a kernel must take time from its samples " +
        "and ticks and randomness from ctx.random(seq), or replay cannot be exact",
    );
  }
}
