/**
 * Poison inputs across restarts: an input the host died applying (an endless loop ended by a
 * supervisor, a kind that exits the process or aborts) would kill every restart again, since
 * recovery applies the journal's tail once more. Every input is journaled before it is applied,
 * so the one a host died on is the last input of its instance's stream; recovery applies each
 * stream's last input alone, once the losses are judged, with an attempt record written before
 * each (attempt_record.ts): a recovery that dies leaves, as its last record, the input it died
 * on. A stream's last input whose outputs the host's last clean stop noted as published
 * (edge_decisions.ts) is folded with the rest: its step returned, so no host died on it. An input
 * the host died on `crashAttemptsMax` times in a row (the live apply counts as one, each recovery
 * that died on it as one more) is skipped: a skip record in its stream (so replay and every later
 * recovery pass over it) and a dead letter with reason `crash`. An input whose step ran past its
 * deadline before this start (step_overrun.ts) is skipped the same way, with reason `deadline`,
 * wherever its stream holds it (a team's kind's later inputs are journaled while a worker thread
 * spins on it); recovery folds every input under the step watchdog.
 *
 * The records journaled after the first of those inputs wait with them and are folded in journal
 * order among them (`applyTail`): a recovery publishes what it folds in the order the inputs came,
 * across instances, as the live host did (a team's kinds tried on a worker thread leave inputs
 * journaled but not yet applied, whose outputs this recovery publishes first). An attempt is
 * closed (`settle`) before such a record is folded, so that a death folding it is not counted
 * against the input attempted before it.
 *
 * Cost: nothing per input on the hot path (the journaled input is the live attempt). Per
 * recovery after an unclean stop, one attempt record per stream with inputs past its snapshot,
 * and one closing it where other records follow, each written (not fsynced) before the next is
 * applied (after a clean stop none, though a stop snapshots only where it pays and leaves most
 * streams such inputs); the records after the first last input are held in memory until the
 * losses are judged.
 */
import {
  type AttemptRecord,
  type BusMessage,
  decodeInputRecord,
  encodeSkipRecord,
  type InputRecord,
} from "../../../protocol/mod.ts";
import { addSkip, InputRejectedError, type Slot } from "../instances/mod.ts";
import type { Journal } from "../journal/mod.ts";

/** Where attempt records are journaled and read back (the host's edge stream). */
export interface AttemptJournal {
  /** The attempt records journaled by earlier starts, in order. */
  readonly attempts: readonly AttemptRecord[];
  /** Journals an attempt record; resolves once it outlives the process. */
  attempt(attempt: AttemptRecord): Promise<void>;
  /** The positions of `stream` skipped so far (`skipped` attempt records). */
  skippedIn(stream: string): ReadonlySet<number> | undefined;
}

/** What earlier recoveries died on, and the attempts of this one. */
export class CrashAttempts {
  readonly #journal: AttemptJournal;
  /** The input the last recoveries died on, and how many in a row did. */
  readonly #diedOn: { stream: string; pos: number; deaths: number } | undefined;
  #begun = false;
  /** An input attempted since the last record closing it. */
  #open = false;

  constructor(journal: AttemptJournal) {
    this.#journal = journal;
    this.#diedOn = lastDeaths(journal.attempts);
  }

  /**
   * How many times the host died applying the input at `pos` of `stream`: the live apply that
   * journaled it, and each recovery in a row that died on it.
   */
  deaths(stream: string, pos: number): number {
    const d = this.#diedOn;
    return 1 + (d !== undefined && d.stream === stream && d.pos === pos ? d.deaths : 0);
  }

  /** Journals that the input at `pos` of `stream` is about to be applied again. */
  async attempting(stream: string, pos: number, srcPos: number): Promise<void> {
    if (!this.#begun) {
      this.#begun = true;
      await this.#journal.attempt({ phase: "begin", stream: "", pos: 0, srcPos: 0 });
    }
    await this.#journal.attempt({ phase: "input", stream, pos, srcPos });
    this.#open = true;
  }

  /**
   * Journals that the input attempted last applied, before a record that is not an attempt is
   * folded: a death then is not that input's.
   */
  async settle(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    await this.#journal.attempt({ phase: "passed", stream: "", pos: 0, srcPos: 0 });
  }

  /** Journals that the input at `pos` of `stream` was given up on. */
  skipped(stream: string, pos: number, srcPos: number): Promise<void> {
    return this.#journal.attempt({ phase: "skipped", stream, pos, srcPos });
  }

  /** Journals that every input attempted since `attempting` was first called applied. */
  async passed(): Promise<void> {
    if (!this.#begun) return;
    this.#begun = false;
    await this.settle();
  }
}

/**
 * The input the most recent recoveries died on: the last `input` record of the last recovery that
 * neither passed nor skipped it, and how many recoveries in a row ended on that same input.
 */
function lastDeaths(
  attempts: readonly AttemptRecord[],
): { stream: string; pos: number; deaths: number } | undefined {
  // Each recovery's last input, if it died on one.
  const ends: Array<AttemptRecord | undefined> = [];
  for (const a of attempts) {
    if (a.phase === "begin") ends.push(undefined);
    else if (a.phase === "input") {
      if (ends.length === 0) ends.push(undefined);
      ends[ends.length - 1] = a;
    } else if (ends.length > 0) ends[ends.length - 1] = undefined; // passed, or skipped
  }
  const last = ends.at(-1);
  if (last === undefined) return undefined;
  let deaths = 0;
  for (let i = ends.length - 1; i >= 0; i--) {
    const end = ends[i];
    if (end === undefined || end.stream !== last.stream || end.pos !== last.pos) break;
    deaths++;
  }
  return { stream: last.stream, pos: last.pos, deaths };
}

/** A record left for `applyTail`: one applied alone, or one journaled after such. */
export interface TailInput {
  slot: Slot;
  pos: number;
  record: InputRecord;
  /**
   * Whether it is applied alone, after an attempt record: its stream's last input (perhaps the
   * one the host died on), or the input of a step that ran past its deadline before this start.
   */
  alone: boolean;
}

/** What applying the tail works with: the recovery's journal, fold and dead letters. */
export interface TailParts {
  journal: Journal;
  attempts: AttemptJournal;
  crashAttemptsMax: number;
  /** Whether the slot's instance threw while folding (rebuilt the careful way, these with it). */
  broken(slot: Slot): boolean;
  /** Folds the record at `pos` into the slot's instance (as skipped if its skips name it). */
  fold(slot: Slot, pos: number, record: InputRecord): void;
  deadLetter(msg: BusMessage, err: unknown, actor?: string): void;
  log(message: string): void;
  /** A step that ran past its deadline before this start (step_overrun.ts), if one did. */
  overrun: OverrunToSkip | undefined;
}

/** What the step watchdog is told of a step. */
export interface StepWatching {
  /** A step begins (the slot named to the watchdog first, at its first step). */
  begin(slot: Slot, pos: number, srcPos: number): void;
  end(): void;
}

/** The input of a step that overran its deadline, to skip where it is journaled. */
export interface OverrunToSkip {
  /** Whether the input journaled at `pos` of `stream`, from source position `srcPos`, is it. */
  journaledAt(stream: string, pos: number, srcPos: number): boolean;
  /** The dead letter's error (reason `deadline`). */
  error(): InputRejectedError;
  /** Its skip is journaled. */
  done(): void;
}

/**
 * Folds the tail in journal order: each input applied alone after an attempt record, or skipped
 * instead when its step ran past its deadline before this start or the host died on it
 * `crashAttemptsMax` times in a row; true when one was skipped.
 */
export async function applyTail(
  tail: readonly TailInput[],
  parts: TailParts,
): Promise<boolean> {
  const crashes = new CrashAttempts(parts.attempts);
  // A skip record goes after its stream's last record: folded once the tail's records are.
  const skips: Array<{ slot: Slot; pos: number; record: InputRecord }> = [];
  for (const { slot, pos, record, alone } of tail) {
    if (parts.broken(slot)) continue;
    if (!alone) {
      await crashes.settle();
      parts.fold(slot, pos, record);
      continue;
    }
    const err = skipError(slot, { pos, record }, crashes, parts);
    if (err === undefined) {
      await crashes.attempting(slot.stream, pos, record.srcPos);
      parts.fold(slot, pos, record);
      continue;
    }
    await crashes.skipped(slot.stream, pos, record.srcPos);
    skips.push(await skipInput(slot, { pos, record, err }, parts));
    if (err.reason === "deadline") parts.overrun?.done();
  }
  for (const { slot, pos, record } of skips) parts.fold(slot, pos, record);
  await crashes.passed();
  return skips.length > 0;
}

/**
 * Why the input at `at.pos` of `slot` is skipped rather than applied: its step ran past its
 * deadline before this start, or the host died on it too often; undefined when it is applied.
 */
function skipError(
  slot: Slot,
  at: { pos: number; record: InputRecord },
  crashes: CrashAttempts,
  parts: TailParts,
): InputRejectedError | undefined {
  const { pos, record } = at;
  if (parts.overrun?.journaledAt(slot.stream, pos, record.srcPos)) return parts.overrun.error();
  const deaths = crashes.deaths(slot.stream, pos);
  if (deaths < parts.crashAttemptsMax) return undefined;
  const message = `${slot.stream}: the host died applying its input at position ${pos} ` +
    `(source position ${record.srcPos}) ${deaths} times in a row; skipped`;
  return new InputRejectedError("crash", message);
}

/**
 * Skips the input at `pos` (a skip record journaled and written) and dead-letters it; returns the
 * skip record, to fold after its stream's other records.
 */
async function skipInput(
  slot: Slot,
  at: { pos: number; record: InputRecord; err: InputRejectedError },
  parts: TailParts,
): Promise<{ slot: Slot; pos: number; record: InputRecord }> {
  const { pos, record, err } = at;
  const skip = encodeSkipRecord(pos, record);
  const skipPos = await parts.journal.append(slot.stream, skip);
  parts.journal.writeOut?.();
  addSkip(slot, pos);
  parts.fold(slot, pos, record);
  parts.log(`${err.message}, moved to the dead letters`);
  parts.deadLetter(
    { subject: record.subject, data: record.payload, headers: undefined, reply: undefined },
    err,
    slot.stream,
  );
  return { slot, pos: skipPos, record: decodeInputRecord(skip) };
}
