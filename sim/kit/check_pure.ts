/**
 * The purity check: a kernel that reads the wall clock or draws from `Math.random` cannot replay
 * exactly, so its steps are run with those doors shut. While a kernel function runs, `Date.now`,
 * `new Date()` without arguments, `performance.now`, `Math.random` and `crypto.getRandomValues`
 * throw, and the check fails naming the function and the read. Time comes with the samples and
 * ticks; randomness through `StepContext.random`.
 */
import type { AnyActorDefinition, SampleFrame } from "../../protocol/mod.ts";
import { KindCheckError } from "./kit_error.ts";
import { type KindRunOptions, runKind } from "./kind_run.ts";

type Fn = (...args: never[]) => unknown;

/** Throws KindCheckError if `def`'s kernel reads the clock or Math.random over `frames`. */
export function checkPure(
  def: AnyActorDefinition,
  frames: readonly SampleFrame[],
  options: KindRunOptions = {},
): void {
  const guarded: AnyActorDefinition = {
    ...def,
    kernel: {
      ...def.kernel,
      init: shut(def, "init", def.kernel.init as Fn),
      step: shut(def, "step", def.kernel.step as Fn),
      save: shut(def, "save", def.kernel.save as Fn),
      load: shut(def, "load", def.kernel.load as Fn),
    },
    ...(def.tickEvent ? { tickEvent: shut(def, "tick", def.tickEvent as Fn) } : {}),
    ...(def.tickEmits ? { tickEmits: shut(def, "tick", def.tickEmits as Fn) } : {}),
  };
  try {
    runKind(guarded, frames, { ...options, reload: true });
  } catch (err) {
    // The host wraps a kernel's throw in its own error: the kit's reason is in the chain.
    for (let e: unknown = err; e instanceof Error; e = e.cause) {
      if (e instanceof KindCheckError) throw e;
    }
    throw err;
  }
}

// deno-lint-ignore no-explicit-any
function shut(def: AnyActorDefinition, name: string, fn: Fn): any {
  return (...args: never[]) => {
    const restore = closeDoors(`${def.kind} kernel.${name}()`);
    try {
      return fn(...args);
    } finally {
      restore();
    }
  };
}

/** Replaces the clock and random doors with ones that throw; returns what puts them back. */
function closeDoors(where: string): () => void {
  const g = globalThis as unknown as {
    Date: DateConstructor;
    performance: { now: () => number };
    crypto?: { getRandomValues: (a: ArrayBufferView) => ArrayBufferView };
  };
  const refuse = (what: string) => () => {
    throw new KindCheckError(
      `${where} reads ${what}: a kernel must take time from its samples and ticks and ` +
        "randomness from ctx.random(seq), or replay cannot be exact",
    );
  };
  const RealDate = g.Date;
  const realNow = RealDate.now, realPerfNow = g.performance.now, realRandom = Math.random;
  const realGetRandom = g.crypto?.getRandomValues;
  const GuardDate = function (this: unknown, ...args: unknown[]) {
    if (args.length === 0) refuse("the wall clock (new Date())")();
    // deno-lint-ignore no-explicit-any
    return new (RealDate as any)(...args);
  } as unknown as DateConstructor;
  Object.setPrototypeOf(GuardDate, RealDate);
  GuardDate.now = refuse("the wall clock (Date.now)");
  g.Date = GuardDate;
  g.performance.now = refuse("the clock (performance.now)");
  Math.random = refuse("Math.random");
  if (g.crypto && realGetRandom) g.crypto.getRandomValues = refuse("crypto.getRandomValues");
  return () => {
    g.Date = RealDate;
    RealDate.now = realNow;
    g.performance.now = realPerfNow;
    Math.random = realRandom;
    if (g.crypto && realGetRandom) g.crypto.getRandomValues = realGetRandom;
  };
}
