/**
 * The parts of an order-preserving rebuild that decide where things go: which positions void
 * records void, what a stream's hold keeps after its hole and where each kept input goes, and the
 * order in which held inputs are let in as the input's source positions go by.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor } from "../../../../actors/stats/mod.ts";
import { HeldInputs } from "../../../../actors/runtime/recovery/held_inputs.ts";
import { VoidedPositions } from "../../../../actors/runtime/journal/voided_positions.ts";
import { StreamHold } from "../../../../actors/runtime/recovery/recovery_hold.ts";
import { newSlot, type Slot } from "../../../../actors/runtime/instances/slot.ts";
import { HostMetrics } from "../../../../actors/runtime/operations/host_metrics.ts";
import { encodeInputRecord, encodeVoidRecord, type InputRecord } from "../../../../protocol/mod.ts";

const test = suite("held inputs");

function record(kind: InputRecord["kind"], srcPos: number, tag: string): InputRecord {
  return { kind, srcPos, subject: `troupe.x.${tag}`, payload: new TextEncoder().encode(tag) };
}

test("VoidedPositions.of() gathers the ranges of the void records among a stream's records", () => {
  const records = [
    { data: encodeInputRecord(record("frame", 5, "a")) },
    { data: encodeVoidRecord("stats/a", 3, 6) },
    { data: encodeVoidRecord("stats/a", 10, 10) },
  ];
  const voided = VoidedPositions.of(records);
  assert.is(voided.size, 2);
  assert.equal([1, 2, 3, 6, 7, 9, 10, 11].map((p) => voided.has(p)), [
    false,
    false,
    true,
    true,
    false,
    false,
    true,
    false,
  ]);
});

test("a hold puts a control message or tick before the next frame after it, or after what came before it", () => {
  const hold = new StreamHold(20, 100);
  const frame = (srcPos: number) => record("frame", srcPos, `f${srcPos}`);
  const note = (r: InputRecord, seen: number) => hold.note(r, encodeInputRecord(r), seen);
  note(frame(104), 104);
  note(record("ctl", 0, "c1"), 104);
  note(record("tick", 0, "t1"), 106);
  note(frame(107), 106);
  note(record("ctl", 0, "c2"), 109);
  note(record("skip", 0, "s"), 109); // voided with the rest: nothing to give again
  const inputs = hold.inputs();
  assert.equal(
    inputs.map((i) => [i.record.subject, i.before, i.after]),
    [
      ["troupe.x.c1", 107, undefined],
      ["troupe.x.t1", 107, undefined],
      // No frame of the stream after it: after everything journaled before it, any stream.
      ["troupe.x.c2", undefined, 109],
    ],
  );
  assert.is(hold.records, 6);
  assert.ok(hold.voidedBy({ from: 20, to: 40 }, 41));
  assert.ok(hold.voidedBy({ from: 15, to: 40 }, 41));
  assert.not.ok(hold.voidedBy({ from: 21, to: 40 }, 41), "the hole's start not voided");
  assert.not.ok(hold.voidedBy({ from: 20, to: 38 }, 41), "records after the range not voided");
});

test("HeldInputs lets each input in before the frame it precedes or after the position it follows, in journal order", () => {
  const metrics = new HostMetrics({ host: "h" });
  const a = newSlot(statsActor, "a", metrics.tally("stats"));
  const b = newSlot(statsActor, "b", metrics.tally("stats"));
  const order: string[] = [];
  const held = new HeldInputs((slot: Slot, item) => {
    order.push(`${slot.key}:${item.record.subject.slice(9)}`);
  });
  held.hold(a, [
    { record: record("ctl", 0, "a1"), before: 12 },
    { record: record("ctl", 0, "a2"), before: 12 },
    { record: record("tick", 0, "a3"), after: 15 },
  ]);
  held.hold(b, [{ record: record("ctl", 0, "b1"), after: 12 }]);
  assert.is(held.waiting, 4);
  const deliver = (p: number) => {
    held.before(p);
    order.push(`input ${p}`);
    held.after(p);
  };
  deliver(11);
  deliver(12);
  deliver(14);
  // Position 15 was never delivered (dead-lettered, or gone from the stream): the next one does.
  deliver(16);
  assert.equal(order, [
    "input 11",
    "a:a1",
    "a:a2",
    "input 12",
    "b:b1",
    "input 14",
    "a:a3",
    "input 16",
  ]);
  assert.is(held.waiting, 0);
});

test.run();
