/**
 * The clock ticks a host applied (`troupe.tick.<host>`): a host's ticker tells, a slice of its
 * look at a time, which instance got which tick and after which of its inputs. A tick is the
 * host's own input (journaled, never on the bus), so without this a recording holds the bars a
 * tick closed but not the tick, and its replay closes them on the next sample instead, under
 * other ids. Replay applies each recorded tick right after the input it names, whatever order the
 * notice and the inputs reached the recorder in (a tick may race a sample the host had not yet
 * taken).
 */
import { decodeVersionedMap, encodeValue } from "./envelope.ts";
import { describeValue, ProtocolError } from "./protocol_error.ts";
import { areaPrefix, checkName } from "./subjects.ts";

/** The notice encoding's version. */
export const TICK_NOTICE_VERSION = 1;

/** One tick as a host applied it. */
export interface TickNotice {
  /** The instance, `kind/key`. */
  stream: string;
  /** The tick input's payload (its envelope), byte for byte as journaled. */
  tick: Uint8Array;
  /**
   * The envelope id of the last input the instance took before the tick; absent when it has
   * taken none since the host started (a tick after recovery, before any new input).
   */
  after?: string;
}

/** `troupe.tick.<host>`: the ticks host `hostId` applied. */
export function tickSubject(hostId: string): string {
  return `${areaPrefix("tick")}${checkName(hostId, "host id")}`;
}

/** Encodes notices as one msgpack map `{ v, ticks: [[stream, tick, after?], ...] }`. */
export function encodeTickNotices(notices: readonly TickNotice[]): Uint8Array {
  return encodeValue({
    v: TICK_NOTICE_VERSION,
    ticks: notices.map((n) =>
      n.after === undefined ? [n.stream, n.tick] : [n.stream, n.tick, n.after]
    ),
  });
}

/** Decodes notices; throws a ProtocolError naming the entry, the field and the value. */
export function decodeTickNotices(bytes: Uint8Array, where = "tick notices"): TickNotice[] {
  const m = decodeVersionedMap(bytes, where, TICK_NOTICE_VERSION);
  if (!Array.isArray(m.ticks)) throw bad(where, "ticks", "an array", m.ticks);
  return m.ticks.map((entry: unknown, i: number) => {
    const at = `ticks[${i}]`;
    if (!Array.isArray(entry) || entry.length < 2 || entry.length > 3) {
      throw bad(where, at, "an array [stream, tick, after?]", entry);
    }
    const [stream, tick, after] = entry as [unknown, unknown, unknown];
    if (typeof stream !== "string" || !stream.includes("/")) {
      throw bad(where, `${at}[0]`, "a stream kind/key", stream);
    }
    if (!(tick instanceof Uint8Array)) throw bad(where, `${at}[1]`, "bytes", tick);
    if (after !== undefined && typeof after !== "string") {
      throw bad(where, `${at}[2]`, "an input id", after);
    }
    return after === undefined ? { stream, tick } : { stream, tick, after };
  });
}

function bad(where: string, field: string, want: string, value: unknown): ProtocolError {
  return new ProtocolError(
    "value",
    `Cannot decode ${where}: field "${field}" must be ${want}, got ${describeValue(value)}`,
    { field, value },
  );
}
