/**
 * A progress mark: how far event time has reached on each partition a host (or a host's thread)
 * runs, as the incident stage takes it, so the stage's watermark moves with the feeds and not only
 * with findings (a lone finding then opens its incident though no other follows it). A partition
 * that took no input for a while is marked `idle` and stops holding the watermark back, as a Flink
 * source marks itself idle (`WatermarkStrategy.withIdleness`). The envelope's `src` names the
 * source, its `ts` is the source's wall clock when it sent the mark (µs), so the stage can tell a
 * source that went quiet from the others' marks without a clock of its own. Published on
 * `troupe.finding.progress.<src>`, so a leased stage's findings stream journals the marks in their
 * places among the findings.
 */
import { encodeEnvelope, type Envelope, type EnvelopeInit } from "./envelope.ts";
import { decodeEnvelope } from "./envelope.ts";
import { describeValue, ProtocolError } from "./protocol_error.ts";
import { findingSubject, SUBJECT_ROOT } from "./subjects.ts";

/** The envelope type of a progress mark. */
export const PROGRESS_TYPE = "progress";

/** Partitions one mark names, at most. */
export const PROGRESS_PARTITIONS_MAX = 4096;

/** One partition's progress. */
export interface PartitionProgress {
  partition: number;
  /** The event time its inputs have reached, µs (0: none yet). */
  reached_us: number;
  /** It has taken no input for the source's idle timeout: it holds nothing back. */
  idle: boolean;
}

/** A source's progress over the partitions it runs. */
export interface ProgressMark {
  partitions: PartitionProgress[];
  /**
   * Its feeds are live: it counts an input's event time at most a bound past its wall clock, and
   * the stage may bound findings by the wall clock too. A source of a synthetic feed running
   * faster than the clock is not.
   */
  live: boolean;
}

/** `troupe.finding.progress.<src>`: where a source's marks go. */
export function progressSubject(src: string): string {
  return findingSubject(PROGRESS_TYPE, src);
}

/** `troupe.finding.progress.*`: every source's marks. */
export const PROGRESS_PATTERN = `${SUBJECT_ROOT}.finding.${PROGRESS_TYPE}.*`;

/** Encodes a mark in an envelope of type `progress` (`meta.ts`: the source's wall clock, µs). */
export function encodeProgressMark(
  meta: Omit<EnvelopeInit, "body" | "type">,
  mark: ProgressMark,
): Uint8Array {
  checkMark(mark.partitions, "partitions");
  return encodeEnvelope({
    ...meta,
    type: PROGRESS_TYPE,
    body: {
      p: mark.partitions.map((x) => [x.partition, x.reached_us, x.idle ? 1 : 0]),
      live: mark.live ? 1 : 0,
    },
  });
}

/**
 * Decodes a mark; throws a ProtocolError naming the field and the value (one of another type
 * included: `isProgressMark` tells them apart first).
 */
export function decodeProgressMark(bytes: Uint8Array): { envelope: Envelope; mark: ProgressMark } {
  const envelope = decodeEnvelope(bytes);
  if (envelope.type !== PROGRESS_TYPE) {
    throw bad("type", envelope.type, `must be "${PROGRESS_TYPE}"`);
  }
  const body = envelope.body as { p?: unknown; live?: unknown } | null;
  const raw = typeof body === "object" && body !== null ? body.p : undefined;
  const live = body?.live;
  if (live !== 0 && live !== 1) throw bad("body.live", live, "must be 0 or 1");
  if (!Array.isArray(raw)) throw bad("body.p", raw, "must be an array of [partition, µs, idle]");
  const partitions = raw.map((x: unknown, i): PartitionProgress => {
    if (!Array.isArray(x) || x.length !== 3) {
      throw bad(`body.p[${i}]`, x, "must be [partition, reached µs, idle 0 or 1]");
    }
    return { partition: x[0], reached_us: x[1], idle: x[2] === 1 };
  });
  checkMark(partitions, "body.p");
  return { envelope, mark: { partitions, live: live === 1 } };
}

/** Whether `bytes` hold an envelope of type `progress` (cheap: no body checks). */
export function isProgressMark(bytes: Uint8Array): boolean {
  try {
    return decodeEnvelope(bytes).type === PROGRESS_TYPE;
  } catch {
    return false;
  }
}

function checkMark(partitions: readonly PartitionProgress[], field: string): void {
  if (partitions.length > PROGRESS_PARTITIONS_MAX) {
    throw bad(field, partitions.length, `must hold at most ${PROGRESS_PARTITIONS_MAX} partitions`);
  }
  for (const [i, x] of partitions.entries()) {
    if (!Number.isSafeInteger(x.partition) || x.partition < 0) {
      throw bad(`${field}[${i}].partition`, x.partition, "must be a partition number");
    }
    if (!Number.isSafeInteger(x.reached_us) || x.reached_us < 0) {
      throw bad(`${field}[${i}].reached_us`, x.reached_us, "must be a time in µs");
    }
  }
}

function bad(field: string, value: unknown, want: string): ProtocolError {
  return new ProtocolError(
    "value",
    `Invalid progress mark: field "${field}" ${want}, got ${describeValue(value)}`,
    { field, value },
  );
}
