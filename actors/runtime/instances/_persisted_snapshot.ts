/**
 * A machine cell's snapshot in the form a restore takes, built directly: the object xstate's
 * `getPersistedSnapshot` makes for it, key for key and value for value, without its general
 * path (a copy of the snapshot less ten named fields, then a walk of the context for actor
 * references to persist). A host captures every instance's machine at each of its snapshots and
 * at a stop, 400,000 of them at fleet size, where that general path is much of the stop's work.
 * Private to the machine cell.
 *
 * The direct form covers what a cell holds: a snapshot xstate made (`createMachineSnapshot`:
 * status, output, error, machine, context, the nodes, value, tags, children, history and its
 * methods; or one of those with its status and error changed), with no children (a cell spawns
 * and invokes none) and no actor reference in its context. Anything else (an actor reference an
 * action put in the context, a snapshot with children) takes xstate's own path, so the persisted
 * form is xstate's whatever the machine does; tests/actors/runtime/instances/machine_cell.test.ts
 * holds the two equal for every kind's machine in each of its states.
 */
import type { AnyMachineSnapshot } from "xstate";

/** The persisted form of `snapshot`, or undefined where only xstate's own path makes it. */
export function persistedSnapshot(snapshot: AnyMachineSnapshot): unknown {
  const s = snapshot as AnyMachineSnapshot & { historyValue?: unknown };
  for (const _ in s.children) return undefined;
  if (holdsActorRef(s.context, 0)) return undefined;
  // xstate's own key order: the snapshot's fields left after the ten it sets aside (status,
  // output, error, value, historyValue), then context and children.
  return {
    status: s.status,
    output: s.output,
    error: s.error,
    value: s.value,
    historyValue: persistedHistory(s.historyValue),
    context: s.context,
    children: {},
  };
}

/** Depth past which a context is handed to xstate's path rather than walked here. */
const DEPTH_MAX = 32;

/**
 * Whether `value` holds an actor reference (what xstate's persisted form replaces by its id), by
 * xstate's own test of one: an object with `sessionId`, `send` and `ref`. True also past
 * DEPTH_MAX, so that xstate's path decides.
 */
function holdsActorRef(value: unknown, depth: number): boolean {
  if (depth > DEPTH_MAX) return true;
  for (const key in value as Record<string, unknown>) {
    const v = (value as Record<string, unknown>)[key];
    if (v === null || typeof v !== "object") continue;
    if ("sessionId" in v && "send" in v && "ref" in v) return true;
    if (holdsActorRef(v, depth + 1)) return true;
  }
  return false;
}

/** A history value's persisted form: each state node's id of each entry that is a list. */
function persistedHistory(history: unknown): Record<string, Array<{ id: string }>> {
  const out: Record<string, Array<{ id: string }>> = {};
  if (typeof history !== "object" || history === null) return out;
  for (const key in history as Record<string, unknown>) {
    const nodes = (history as Record<string, unknown>)[key];
    if (Array.isArray(nodes)) out[key] = nodes.map((n: { id: string }) => ({ id: n.id }));
  }
  return out;
}
