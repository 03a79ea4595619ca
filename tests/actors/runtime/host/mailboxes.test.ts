/**
 * The instances' mailboxes (mailboxes.ts): a feed input goes to the slot its stream has now,
 * made on its first input, however the slots of its route were found before.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor } from "../../../../actors/stats/mod.ts";
import { barsActor } from "../../../../actors/bars/mod.ts";
import { Mailboxes } from "../../../../actors/runtime/host/mailboxes.ts";
import { HostMetrics } from "../../../../actors/runtime/operations/host_metrics.ts";
import type { Slot } from "../../../../actors/runtime/instances/mod.ts";
import type { EdgeInput } from "../../../../actors/runtime/edge/mod.ts";
import { type AnyActorDefinition, feedSubject } from "../../../../protocol/mod.ts";

const test = suite("mailboxes");

/** Mailboxes whose pump only notes the slots it was asked to pump. */
function mailboxes(): { mail: Mailboxes; pumped: Slot[] } {
  const pumped: Slot[] = [];
  const mail = new Mailboxes({
    metrics: new HostMetrics({ host: "h" }),
    mailboxMax: 100,
    append: () => undefined,
    reject: (slot) => assert.unreachable(`${slot.stream} refused an input`),
    pump: (slot) => void pumped.push(slot),
  });
  return { mail, pumped };
}

/** The feed input at source position `srcPos` of channel `a`, for `targets`. */
function input(
  targets: ReadonlyArray<readonly [AnyActorDefinition, string]>,
  srcPos: number,
): EdgeInput {
  const subject = feedSubject("f", "a");
  const record = { kind: "frame" as const, srcPos, subject, payload: new Uint8Array(1) };
  return { targets, record, bytes: [], decoded: undefined as unknown as EdgeInput["decoded"] };
}

test("a route's inputs go to the slots of its streams, made on the first", () => {
  const { mail, pumped } = mailboxes();
  const targets = [[statsActor, "a"], [barsActor, "a"]] as const;
  mail.enqueueInput(input(targets, 1), 0);
  mail.enqueueInput(input(targets, 2), 0);
  assert.equal(pumped.map((s) => s.stream), ["stats/a", "bars/a", "stats/a", "bars/a"]);
  assert.is(mail.slots.size, 2);
  assert.is(pumped[0], pumped[2]);
  assert.equal(mail.slots.get("stats/a")!.mailbox.map((p) => p.record.srcPos), [1, 2]);
});

test("an input of a route after one of its slots was taken out goes to the stream's new slot", () => {
  const { mail, pumped } = mailboxes();
  const targets = [[statsActor, "a"], [barsActor, "a"]] as const;
  mail.enqueueInput(input(targets, 1), 0);
  const old = mail.slots.get("stats/a")!;
  // What recovery does with a slot it forgets.
  mail.slots.delete("stats/a");
  mail.enqueueInput(input(targets, 2), 0);
  const now = mail.slots.get("stats/a")!;
  assert.ok(now !== old, "a new slot");
  assert.is(pumped[2], now);
  assert.equal(now.mailbox.map((p) => p.record.srcPos), [2]);
  assert.equal(old.mailbox.map((p) => p.record.srcPos), [1]);
  assert.equal(mail.slots.get("bars/a")!.mailbox.map((p) => p.record.srcPos), [1, 2]);
});

test.run();
