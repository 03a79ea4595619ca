/**
 * Attempt records: how a host counts, across its own deaths, the journaled inputs it died
 * applying. Every input is journaled before it is applied, so after a death the last input of
 * each instance's stream may be the one that killed the host. Recovery applies those again one at
 * a time, and journals in the host's own stream (`_edge/<hostId>`) an attempt record before each:
 * `begin` when a recovery starts applying them, `input` naming the stream and position it is
 * about to apply, `passed` once every one applied, and `skipped` when one was given up on. A
 * recovery that finds the previous ones ended on the same input without `passed` knows that input
 * killed them (see crash_attempts.ts).
 *
 * Layout: an input record of kind `attempt`, its subject the instance's stream (empty for `begin`
 * and `passed`), its source position the input's, its payload u8 phase then f64 journal position.
 */
import { decodeInputRecord, encodeInputRecord, type InputRecord } from "./input_record.ts";
import { ProtocolError } from "./protocol_error.ts";

/** What an attempt record says. */
export type AttemptPhase = "begin" | "input" | "passed" | "skipped";

const PHASES: AttemptPhase[] = ["begin", "input", "passed", "skipped"];

/** A decoded attempt record. */
export interface AttemptRecord {
  phase: AttemptPhase;
  /** The instance's stream ("" for `begin` and `passed`). */
  stream: string;
  /** The input's journal position in `stream` (0 for `begin` and `passed`). */
  pos: number;
  /** The input's source position (0 for `begin` and `passed`). */
  srcPos: number;
}

/** Encodes an attempt record. */
export function encodeAttemptRecord(attempt: AttemptRecord): Uint8Array {
  const payload = new Uint8Array(9);
  payload[0] = PHASES.indexOf(attempt.phase);
  new DataView(payload.buffer).setFloat64(1, attempt.pos, true);
  return encodeInputRecord({
    kind: "attempt",
    srcPos: attempt.srcPos,
    subject: attempt.stream,
    payload,
  });
}

/** Decodes an attempt record from its input record. */
export function attemptOf(record: InputRecord): AttemptRecord {
  const phase = PHASES[record.payload[0] ?? 255];
  if (record.kind !== "attempt" || record.payload.byteLength !== 9 || phase === undefined) {
    throw new ProtocolError(
      "field",
      `Cannot decode an attempt record: kind "${record.kind}" with a payload of ` +
        `${record.payload.byteLength} bytes (phase ${record.payload[0]}) is not one`,
      { field: "payload", value: record.payload },
    );
  }
  const view = new DataView(record.payload.buffer, record.payload.byteOffset, 9);
  return {
    phase,
    stream: record.subject,
    pos: view.getFloat64(1, true),
    srcPos: record.srcPos,
  };
}

/** Decodes an attempt record from its bytes. */
export function decodeAttemptRecord(bytes: Uint8Array): AttemptRecord {
  return attemptOf(decodeInputRecord(bytes));
}
