/**
 * The bounds a sample frame's times and sequence numbers are held to where it is decoded
 * (`validateFrame`): what every stage after the edge (journal, kernels, machines, the encoders of
 * outputs, bars and ticks) can take. Times are microseconds since the Unix epoch.
 */
import { describeValue, ProtocolError } from "./protocol_error.ts";

/** The earliest sample time a frame may carry: the Unix epoch. */
export const FRAME_TIME_US_MIN = 0;
/**
 * The latest sample time a frame may carry: 2100-01-01T00:00:00Z. Every stage downstream turns
 * times into integer microseconds (envelope `ts`, bar starts and ends, tick times) that must stay
 * safe integers with room for a bar's or a window's span added; this bound leaves a factor of two
 * below Number.MAX_SAFE_INTEGER. It is fixed, not relative to the host's clock, so that replaying
 * a journal or a recording years later judges a frame as it was judged live.
 */
export const FRAME_TIME_US_MAX = 4_102_444_800_000_000;

/** Whether `t` is a sample time a frame may carry (false for NaN). */
export function inFrameTimeRange(t: number): boolean {
  return t >= FRAME_TIME_US_MIN && t <= FRAME_TIME_US_MAX;
}

/** The error of sample `i`'s time `t`, outside the range, in a frame of `channel`. */
export function frameTimeError(channel: string, i: number, t: number): ProtocolError {
  return new ProtocolError(
    "value",
    `Frame of channel "${channel}": body.t[${i}] must be a time in microseconds from ` +
      `${FRAME_TIME_US_MIN} (1970-01-01T00:00:00Z) to ${FRAME_TIME_US_MAX} ` +
      `(2100-01-01T00:00:00Z), got ${describeValue(t)}`,
    { field: `body.t[${i}]`, value: t },
  );
}

/**
 * Throws unless the `n` samples numbered from `seq0` leave the next number a safe integer too:
 * outputs carry sequence numbers up to the last, and a channel's next frame starts after it.
 */
export function checkFrameSeq(channel: string, seq0: number, n: number): void {
  if (seq0 + n <= Number.MAX_SAFE_INTEGER) return;
  throw new ProtocolError(
    "value",
    `Frame of channel "${channel}": body.seq0 = ${seq0} leaves no safe integer sequence number ` +
      `for its ${n} samples (at most ${Number.MAX_SAFE_INTEGER - n})`,
    { field: "body.seq0", value: seq0 },
  );
}
