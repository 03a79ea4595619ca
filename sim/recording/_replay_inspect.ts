/**
 * The state of one actor instance at the end of a replay, as JSON-safe data: what `--inspect`
 * prints. Used by the in-process replay and by each replay worker thread for the instances it ran.
 */
import type { ActorInstance, Host } from "../../actors/runtime/mod.ts";

/** The state of an instance at the end of a replay. */
export interface ReplayInspection {
  kind: string;
  key: string;
  /** The instance's journal position: its records so far (its starting configuration included). */
  journalPosition: number;
  machine: { value: unknown; status: unknown; context: unknown };
  /** The kernel state as JSON, its fields by name where the kind describes them (else typed arrays
   *  as arrays, long ones shortened), and its saved size. */
  kernel: unknown;
  kernelBytes: number;
}

/** The state of `which` on `host`, or the streams of the instances it has when not that one. */
export function inspectInstance(
  host: Host,
  which: { kind: string; key: string },
): ReplayInspection | { streams: string[] } {
  const inst: ActorInstance | undefined = host.instance(which.kind, which.key);
  if (!inst) return { streams: host.instances().map((i) => i.stream) };
  const snap = inst.snapshot();
  const machine = (snap.machine ?? {}) as Record<string, unknown>;
  return {
    kind: which.kind,
    key: which.key,
    journalPosition: inst.pos,
    machine: { value: machine.value, status: machine.status, context: jsonable(machine.context) },
    // By name where the kind says what its fields are; else as the kernel holds it.
    kernel: jsonable(inst.def.describeState?.(inst.kernelState) ?? inst.kernelState),
    kernelBytes: snap.kernel.byteLength,
  };
}

/** What to say when no instance `which` ran: the instances that did (the first dozen). */
export function noSuchInstance(which: { kind: string; key: string }, streams: string[]): string {
  const shown = streams.slice(0, 12).join(", ");
  return `No actor ${which.kind}/${which.key} ran in this replay; ${
    streams.length
      ? `there were ${streams.length}: ${shown}${streams.length > 12 ? ", ..." : ""}`
      : "none ran"
  }`;
}

const ARRAY_SHOWN_MAX = 64;

/**
 * A JSON-safe view of a value: typed arrays as arrays (long ones cut), non-finite numbers as
 * strings.
 */
export function jsonable(value: unknown, depth = 0): unknown {
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "bigint") return value.toString();
  if (value === null || typeof value !== "object") {
    return typeof value === "function" || typeof value === "symbol" ? undefined : value;
  }
  if (depth > 6) return "…";
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const arr = Array.from(value as unknown as ArrayLike<number | bigint>);
    const shown = arr.slice(0, ARRAY_SHOWN_MAX).map((x) => jsonable(x, depth + 1));
    return arr.length > ARRAY_SHOWN_MAX
      ? { type: value.constructor.name, length: arr.length, first: shown }
      : shown;
  }
  if (Array.isArray(value)) {
    const shown = value.slice(0, ARRAY_SHOWN_MAX).map((x) => jsonable(x, depth + 1));
    return value.length > ARRAY_SHOWN_MAX ? { length: value.length, first: shown } : shown;
  }
  if (value instanceof Map) {
    return jsonable(Object.fromEntries([...value].map(([k, v]) => [String(k), v])), depth);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = jsonable(v, depth + 1);
  return out;
}
