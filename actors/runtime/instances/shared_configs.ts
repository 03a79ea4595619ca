/**
 * The configurations a kind's hosts hold (frozen, their encodings kept: `freezeEncoded`), shared
 * with the instances restored from snapshots that hold an equal one. A new instance holds its
 * host's configuration of its kind, one object for them all; an instance restored from a snapshot
 * would hold the copy decoded for it, twice (its own and its machine context's), a few hundred
 * bytes each for every instance of a host that has restarted, and its snapshots would encode
 * those copies field by field. Equal means the same fields in the same order with the same
 * values (`Object.is`), so a snapshot of the instance is the same bytes either way.
 *
 * Kept by kind definition, at most CONFIGS_PER_KIND a kind (the newest): a process of several
 * hosts (the simulator's) shares what they hold alike, and the values are frozen, so which host
 * registered one does not matter.
 */
import type { AnyActorDefinition } from "../../../protocol/mod.ts";

/** Configurations kept a kind, at most: a host holds one, a process's hosts seldom more. */
export const CONFIGS_PER_KIND = 8;

const byKind = new WeakMap<AnyActorDefinition, object[]>();

/** Keeps `config`, frozen with its encoding, as one `def`'s restored instances may share. */
export function shareConfig(def: AnyActorDefinition, config: object): void {
  const kept = byKind.get(def) ?? [];
  if (kept.includes(config)) return;
  kept.unshift(config);
  if (kept.length > CONFIGS_PER_KIND) kept.length = CONFIGS_PER_KIND;
  byKind.set(def, kept);
}

/** The kept configuration of `def` equal to `config`, or `config` itself when none is. */
export function sharedConfig(def: AnyActorDefinition, config: unknown): unknown {
  const kept = byKind.get(def);
  if (kept === undefined || typeof config !== "object" || config === null) return config;
  for (const c of kept) if (c === config || sameValue(c, config, 0)) return c;
  return config;
}

/**
 * A persisted machine snapshot whose context's `config` (where the kinds' machines keep the one
 * their input gave) is `config` in place of an equal copy, or of `was` itself (a copy known to be
 * equal, not compared again); `persisted` itself otherwise. A new object, not `persisted`
 * changed: a snapshot may be restored more than once.
 */
export function withSharedConfig(persisted: unknown, config: unknown, was?: unknown): unknown {
  const context = contextOf(persisted);
  if (context === undefined || !("config" in context) || context.config === config) {
    return persisted;
  }
  if (context.config !== was && !sameValue(context.config, config, 0)) return persisted;
  return { ...(persisted as object), context: { ...context, config } };
}

/** The context of a persisted machine snapshot, when it has one that is an object. */
export function contextOf(persisted: unknown): { config?: unknown } | undefined {
  if (typeof persisted !== "object" || persisted === null) return undefined;
  const context = (persisted as { context?: unknown }).context;
  return typeof context === "object" && context !== null ? context : undefined;
}

/** Whether a machine's configuration `a` is `b`, or equal to it as `sharedConfig` compares. */
export function sameConfig(a: unknown, b: unknown): boolean {
  return sameValue(a, b, 0);
}

/** Deeper than this, values are not compared (told apart). */
const DEPTH_MAX = 16;

/** Whether `a` and `b` are plain data with the same fields in the same order and equal values. */
function sameValue(a: unknown, b: unknown, depth: number): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (depth > DEPTH_MAX || Array.isArray(a) !== Array.isArray(b)) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) return false;
  const ka = Object.keys(a), kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const k = ka[i]!;
    if (k !== kb[i]) return false;
    const va = (a as Record<string, unknown>)[k], vb = (b as Record<string, unknown>)[k];
    if (!sameValue(va, vb, depth + 1)) return false;
  }
  return true;
}
