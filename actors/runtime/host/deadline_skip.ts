/**
 * An input whose step ran past its deadline on the trials thread (step_trials.ts), skipped live:
 * the host never applied it, so the instance goes on after it. The skip is journaled as recovery
 * journals the skip of an input the host died on (crash_attempts.ts): a `skipped` attempt record
 * in the host's edge stream (so that a recovery reading the input before its skip record passes
 * over it) and a skip record in the instance's stream (so that replay does too), then the input
 * goes to `troupe.dlq.deadline` naming the kind, key, input and time spent, which counts it in
 * `troupe_step_deadline_overruns_total{kind}`, and the instance is snapshotted past it. A step
 * that ended its thread is skipped the same way, to `troupe.dlq.crash`; so is, in a replay, an
 * input its recording says the live host skipped.
 */
import { type AttemptRecord, type BusMessage, encodeSkipRecord } from "../../../protocol/mod.ts";
import { addSkip, InputRejectedError, type Pending, type Slot } from "../instances/mod.ts";
import type { JournalData, StreamMemo } from "../journal/mod.ts";
import { dlqSubject } from "../../../protocol/mod.ts";
import type { RecordedSkip } from "./recorded_skips.ts";

/** What a live skip works with: the host's journal, edge decisions, dead letters, snapshots. */
export interface DeadlineSkipParts {
  /** Appends to the journal; undefined when the host stops. */
  append(
    stream: string,
    bytes: JournalData,
    memo?: StreamMemo,
  ): number | Promise<number> | undefined;
  /** Journals an attempt record in the host's edge stream (EdgeDecisions). */
  attempt(attempt: AttemptRecord): Promise<void>;
  deadLetter(msg: BusMessage, err: unknown, actor?: string): void;
  /** Snapshots the slot's instance. */
  capture(slot: Slot): void;
  log(message: string): void;
}

/** How long the step ran, and its deadline, ms. */
export interface Overrun {
  elapsedMs: number;
  deadlineMs: number;
}

/** Skips the input `item`, journaled at `pos`, whose step overran; journals and reports it. */
export function skipOverranInput(
  slot: Slot,
  at: { item: Pending; pos: number; overrun: Overrun },
  parts: DeadlineSkipParts,
): Promise<void> {
  const { pos, overrun } = at;
  const srcPos = at.item.record.srcPos;
  const err = new InputRejectedError(
    "deadline",
    `Step of kind "${slot.def.kind}" on key "${slot.key}" ran past its deadline of ` +
      `${overrun.deadlineMs} ms on its input at position ${pos} (source position ` +
      `${srcPos}): its thread was ended after ${overrun.elapsedMs} ms; skipped`,
  );
  parts.log(
    `${slot.stream}: a step ran past its deadline of ${overrun.deadlineMs} ms (its input at ` +
      `position ${pos}, source position ${srcPos}, ${overrun.elapsedMs} ms); its thread ` +
      `was ended, the input goes to ${dlqSubject("deadline")} and the instance on after it`,
  );
  return skipInputLive(slot, { item: at.item, pos, err }, parts);
}

/**
 * Skips the input `item`, journaled at `pos`, whose step ended its thread (`why`: its exit code):
 * a step that ends the process (`process.exit`, an abort) would end the host if it ran there, as
 * the instance's rebuild would have it. Reason `crash`, as for an input the host died on.
 */
export function skipExitedInput(
  slot: Slot,
  at: { item: Pending; pos: number; why: string },
  parts: DeadlineSkipParts,
): Promise<void> {
  const { pos, why } = at;
  const srcPos = at.item.record.srcPos;
  const err = new InputRejectedError(
    "crash",
    `Step of kind "${slot.def.kind}" on key "${slot.key}" ended its thread (${why}) on its ` +
      `input at position ${pos} (source position ${srcPos}); skipped`,
  );
  parts.log(
    `${slot.stream}: a step ended its thread (${why}) on its input at position ${pos} (source ` +
      `position ${srcPos}); the input goes to ${dlqSubject("crash")} and the instance on after it`,
  );
  return skipInputLive(slot, { item: at.item, pos, err }, parts);
}

/**
 * Skips the input `item`, journaled at `pos`, that the recording being replayed says its live
 * host skipped (recorded_skips.ts), with the dead letter it sent then. At once, before the next
 * input is applied: a replay's journal appends as it is asked, and a replay never recovers, so the
 * attempt record a live skip writes first is not needed.
 */
export function skipRecordedInput(
  slot: Slot,
  at: { item: Pending; pos: number; skip: RecordedSkip },
  parts: DeadlineSkipParts,
): void {
  const { item, pos, skip } = at;
  parts.log(
    `${slot.stream}: its input at position ${pos} is skipped, as the recording's dead letter ` +
      `(${skip.reason}) says the live host did`,
  );
  const err = new InputRejectedError(skip.reason, skip.error);
  const appended = parts.append(slot.stream, encodeSkipRecord(pos, item.record), slot.memo);
  if (appended === undefined) return;
  const pass = (skipPos: number) => passSkipped(slot, { item, pos, err, skipPos }, parts);
  if (typeof appended === "number") return pass(appended);
  appended.then(pass, (e) => parts.log(`${slot.stream}: cannot journal the skip of ${pos}: ${e}`));
}

/** Journals the skip of `item`, journaled at `pos`, moves the instance past it, dead-letters it. */
async function skipInputLive(
  slot: Slot,
  at: { item: Pending; pos: number; err: InputRejectedError },
  parts: DeadlineSkipParts,
): Promise<void> {
  const { item, pos, err } = at;
  const record = item.record;
  await parts.attempt({ phase: "skipped", stream: slot.stream, pos, srcPos: record.srcPos });
  const appended = parts.append(slot.stream, encodeSkipRecord(pos, record), slot.memo);
  if (appended === undefined) return; // the host stops: the next start finds the attempt record
  passSkipped(slot, { item, pos, err, skipPos: await appended }, parts);
}

/**
 * Moves the instance past the input `item` at `pos`, whose skip record was journaled at
 * `skipPos`, and dead-letters it.
 */
function passSkipped(
  slot: Slot,
  at: { item: Pending; pos: number; err: InputRejectedError; skipPos: number },
  parts: DeadlineSkipParts,
): void {
  const { item, pos, err, skipPos } = at;
  const record = item.record;
  addSkip(slot, pos);
  // Inputs of its stream journaled while the step spun, between it and the skip record, wait
  // for their trials and are applied after it: the instance passes the skip record only when
  // there are none (a later position is past it anyway).
  const through = skipPos === pos + 1 ? skipPos : pos;
  const inst = slot.inst;
  if (inst !== undefined && inst.pos < pos) {
    inst.skip(pos, record.srcPos);
    if (through === skipPos) inst.skip(skipPos, record.srcPos);
  }
  slot.publishedPos = Math.max(slot.publishedPos, through);
  parts.deadLetter(
    { subject: record.subject, data: record.payload, headers: undefined, reply: undefined },
    err,
    slot.stream,
  );
  if (inst !== undefined) parts.capture(slot);
}
