/**
 * One instance rebuilt the careful way, after it failed or after a start found it broken: its
 * newest snapshot, then its whole journal past it, in order, with what skip and void records say.
 */
import {
  decodeInputRecordCopy,
  encodeSkipRecord,
  type InputRecord,
  skippedPosition,
  voidedRange,
} from "../../../protocol/mod.ts";
import {
  ActorInstance,
  addSkip,
  foldInput,
  InputRejectedError,
  isPoison,
  isSkipped,
  MissingInitError,
  type Slot,
} from "../instances/mod.ts";
import { VoidedPositions } from "../journal/mod.ts";
import { takeJournaledSources } from "./_take_journaled_sources.ts";
import type { RecoveryAccess } from "./recovery_access.ts";

/**
 * Rebuilds `slot`'s instance from its snapshot and journal, skipping poison inputs: each that
 * failed the instance as often as supervision allows is recorded as skipped, dead-lettered, and
 * the rebuild starts again without it.
 */
export async function rebuildInstance(h: RecoveryAccess, slot: Slot): Promise<void> {
  if (h.closing()) return;
  h.metrics.restarts.inc({ kind: slot.def.kind });
  slot.status = "recovering";
  h.statusMoved(slot);
  if (slot.journalStale && h.journal.prepare) {
    // Another writer appended: the read must reach its records, and the appends after go on.
    await h.journal.prepare(slot.stream);
    slot.journalStale = false;
  }
  const records: Array<{ pos: number; record: InputRecord }> = [];
  const voided = new VoidedPositions();
  const snap = await h.snapshotter.load(slot);
  for await (const rec of h.journal.read(slot.stream, snap?.pos ?? 0)) {
    const record = decodeInputRecordCopy(rec.data);
    if (record.kind === "skip") addSkip(slot, skippedPosition(record));
    if (record.kind === "void") voided.add(voidedRange(record));
    records.push({ pos: rec.pos, record });
  }
  takeJournaledSources(slot, snap?.srcPos ?? 0, records, voided);
  let inst = snap ? ActorInstance.restore(slot.def, slot.key, snap) : undefined;
  for (const { pos, record } of records) {
    // Outputs of inputs applied before were published then; those of the input that failed
    // (and of any journaled while the instance was down) never were.
    const fresh = pos > slot.publishedPos;
    const step = {
      pos,
      record,
      decode: h.decode,
      skipped: isSkipped(slot, pos),
      voided: voided.has(pos),
      outputs: fresh,
    };
    try {
      const folded = foldInput(slot.def, slot.key, inst, step);
      inst = folded.inst;
      if (fresh && folded.outputs !== undefined) {
        h.publish(folded.outputs);
        slot.tally.outputs += folded.outputs.length;
        slot.publishedPos = pos;
      }
    } catch (err) {
      if (err instanceof MissingInitError || !isPoison(slot, pos, h.supervision)) throw err;
      await skipPoison(h, slot, pos, record, err);
      // Rebuild cleanly: the failed attempt may have left the state half-changed.
      return rebuildInstance(h, slot);
    }
  }
  if (!inst) throw new Error(`${slot.stream}: nothing to restore`);
  slot.inst = inst;
  if (inst.srcPos > slot.srcPosMax) slot.srcPosMax = inst.srcPos;
  slot.status = "running";
  h.log(`${slot.stream} restarted at input ${inst.pos}`);
  h.snapshotter.capture(slot);
  h.snapshotter.noteNews(slot); // a capture that waits for a rebuild leaves news
  h.pump(slot);
}

/** Records the input at `pos` as skipped and dead-letters it. */
async function skipPoison(
  h: RecoveryAccess,
  slot: Slot,
  pos: number,
  record: InputRecord,
  err: unknown,
): Promise<void> {
  await h.journal.append(slot.stream, encodeSkipRecord(pos, record));
  addSkip(slot, pos);
  h.deadLetter(
    { subject: record.subject, data: record.payload, headers: undefined, reply: undefined },
    new InputRejectedError("apply", (err as Error).message, { cause: err }),
    slot.stream,
  );
  const count = slot.inputFailures?.get(pos) ?? 0;
  h.log(`${slot.stream}: input ${pos} failed ${count} times; moved to the dead letters`);
  // Those failures were this input's, and it is gone: the instance's window starts afresh, so
  // that inputs which fail it, each skipped, never add up to stopping it.
  slot.failures = [];
  slot.inputFailures = undefined;
}
