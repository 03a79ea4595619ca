/**
 * A step that ran past its deadline, as a host's step watchdog records it before it ends the
 * process (actors/runtime/host/step_watch.ts): the instance, its input and the time spent. A host
 * with a data directory of its own keeps it as JSON in `<data_dir>/step_overrun.json`; hosts that
 * share partitions by lease also keep it, msgpack-encoded, under the key `partition.<n>` of the
 * bucket `troupe_step_overruns`, where whichever host next takes that partition finds it and skips
 * the input. Both forms are checked here, field by field.
 */
import { decodeVersionedMap, encodeValue } from "./envelope.ts";
import { describeValue, ProtocolError } from "./protocol_error.ts";
import { isValidName } from "./subjects.ts";

/** The bucket encoding's version. */
export const STEP_OVERRUN_VERSION = 1;

/** A step past its deadline: the instance, the input, the time spent and the deadline. */
export interface StepOverrun {
  stream: string;
  kind: string;
  key: string;
  /** The input's journal position (perhaps not written when the process ended). */
  pos: number;
  /** The input's source position (0: core input, never delivered again). */
  src_pos: number;
  elapsed_ms: number;
  deadline_ms: number;
  /** The host whose step it was, when a process runs several (a leased host's `part-<n>`). */
  host?: string;
}

/**
 * Encodes an overrun as one msgpack map
 * `{ v, stream, kind, key, pos, src_pos, elapsed_ms, deadline_ms, host? }`.
 */
export function encodeStepOverrun(o: StepOverrun): Uint8Array {
  return encodeValue({ v: STEP_OVERRUN_VERSION, ...checkStepOverrun(o, "step overrun") });
}

/** Decodes an overrun; throws a ProtocolError naming the field and the value. */
export function decodeStepOverrun(bytes: Uint8Array, where = "step overrun"): StepOverrun {
  const { v: _v, ...o } = decodeVersionedMap(bytes, where, STEP_OVERRUN_VERSION);
  return checkStepOverrun(o, where);
}

/**
 * Checks that `o` (read from JSON or msgpack) is an overrun, and returns it typed; throws a
 * ProtocolError naming `where`, the field and the value.
 */
export function checkStepOverrun(o: unknown, where: string): StepOverrun {
  if (typeof o !== "object" || o === null || Array.isArray(o)) {
    throw new ProtocolError("value", `Invalid ${where}: must be a map, got ${describeValue(o)}`);
  }
  const m = o as Record<string, unknown>;
  const bad = (field: string, want: string) =>
    new ProtocolError(
      "value",
      `Invalid ${where}: field "${field}" must be ${want}, got ${describeValue(m[field])}`,
      { field, value: m[field] },
    );
  for (const field of ["stream", "kind", "key"]) {
    if (typeof m[field] !== "string") throw bad(field, "a string");
  }
  for (const field of ["pos", "src_pos", "elapsed_ms", "deadline_ms"]) {
    const n = m[field];
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
      throw bad(field, "an integer of 0 or more");
    }
  }
  if (m.host !== undefined && !isValidName(m.host)) {
    throw bad("host", "a host id (A-Z a-z 0-9 _ -)");
  }
  const { stream, kind, key, pos, src_pos, elapsed_ms, deadline_ms, host } =
    m as unknown as StepOverrun;
  return {
    stream,
    kind,
    key,
    pos,
    src_pos,
    elapsed_ms,
    deadline_ms,
    ...(host === undefined ? {} : { host }),
  };
}
