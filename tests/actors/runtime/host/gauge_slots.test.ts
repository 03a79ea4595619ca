/**
 * What a host's gauges look at (gauge_slots.ts): the slots noted as maybe not running and maybe
 * with inputs waiting, every other slot counted as running with none. A real host notes each
 * status it sets: an instance in backoff, then stopped, shows in its health and its gauge.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor } from "../../../../actors/stats/mod.ts";
import {
  Host,
  InProcessBus,
  MemoryJournal,
  MemorySnapshotStore,
} from "../../../../actors/runtime/mod.ts";
import { encodeFrame, feedSubject } from "../../../../protocol/mod.ts";
import { HostMetrics } from "../../../../actors/runtime/operations/host_metrics.ts";
import { newSlot, type Slot } from "../../../../actors/runtime/instances/mod.ts";
import { GaugeSlots } from "../../../../actors/runtime/host/gauge_slots.ts";
import { SlotMap } from "../../../../actors/runtime/host/_slot_map.ts";
import { brokenKind } from "../../../_support/failing_kinds.ts";

const test = suite("gauge_slots");

/** One frame of `channel`, frame `f`. */
function publish(bus: InProcessBus, channel: string, f: number): void {
  const t = Float64Array.of(1_700_000_000_000_000 + f * 1e6), v = Float64Array.of(f);
  bus.publish(
    feedSubject("t", channel),
    encodeFrame({ channel, seq0: f, t, v }, { id: `${channel}-${f}`, src: "t" }),
  );
}

/** A running stats slot for `key`, with nothing waiting. */
function slotOf(key: string): Slot {
  return newSlot(statsActor, key, new HostMetrics({ host: "h" }).tally("stats"));
}

/** The gauges' view of `slots`, each noted. */
function gaugesOf(slots: Slot[]): GaugeSlots {
  const gauges = new GaugeSlots(new SlotMap());
  for (const slot of slots) gauges.all.set(slot.stream, slot);
  return gauges;
}

async function until(what: string, ms: number, ok: () => boolean | Promise<boolean>) {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) assert.unreachable(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("GaugeSlots.countByStatus() follows each status noted, and lets go of a slot running again or removed", () => {
  const slots = ["a", "b", "c", "d"].map((k) => slotOf(k));
  const gauges = gaugesOf(slots);
  assert.equal(gauges.countByStatus(), { recovering: 0, running: 4, backoff: 0, stopped: 0 });
  slots[0]!.status = "backoff";
  gauges.noteStatus(slots[0]!);
  slots[1]!.status = "stopped";
  gauges.noteStatus(slots[1]!);
  slots[2]!.status = "recovering";
  gauges.noteStatus(slots[2]!);
  assert.equal(gauges.countByStatus(), { recovering: 1, running: 1, backoff: 1, stopped: 1 });
  slots[0]!.status = "running"; // rebuilt
  gauges.all.delete(slots[2]!.stream); // forgotten by recovery
  assert.equal(gauges.countByStatus(), { recovering: 0, running: 2, backoff: 0, stopped: 1 });
  assert.is(gauges.unsettled.size, 1, "only the stopped one is still looked at");
});

test("an instance in backoff, its inputs waiting, then stopped, shows in the host's health and gauges", async () => {
  const bus = new InProcessBus();
  const h = new Host({
    hostId: "g",
    bus,
    actors: [brokenKind, statsActor],
    journal: new MemoryJournal(),
    snapshots: new MemorySnapshotStore(),
    snapshotEveryMs: 50,
    supervision: { backoffMsBase: 300, backoffMsMax: 300, failuresMax: 2, inputFailuresMax: 10 },
    log: () => {},
  });
  await h.start();
  publish(bus, "x", 0);
  await bus.flush();
  const counts = () => h.health().instances;
  // brokenKind and stats read the same feed: each channel has one instance of each.
  assert.equal(counts(), { recovering: 0, running: 1, backoff: 1, stopped: 0 });
  // Inputs for it meanwhile wait in its mailbox: the gauge counts them.
  publish(bus, "x", 1);
  publish(bus, "x", 2);
  await bus.flush();
  await until("the depth gauge", 250, async () =>
    /^troupe_mailbox_depth\{host="g"\} [2-9]$/m.test(
      await h.metrics.text(),
    ));
  await until("stopped", 5_000, () => counts().stopped === 1);
  assert.equal(counts(), { recovering: 0, running: 1, backoff: 0, stopped: 1 });
  await until("the gauge", 5_000, async () =>
    /^troupe_healthy\{host="g"\} 0$/m.test(
      await h.metrics.text(),
    ));
  assert.ok(h.health().reasons.some((r) => r.includes("1 actor instances stopped")));
  await h.stop();
});

test("an instance stopped at its first failure shows in the host's health at once", async () => {
  const bus = new InProcessBus();
  const h = new Host({
    hostId: "g1",
    bus,
    actors: [brokenKind],
    journal: new MemoryJournal(),
    snapshots: new MemorySnapshotStore(),
    supervision: { failuresMax: 1, inputFailuresMax: 10 },
    log: () => {},
  });
  await h.start();
  publish(bus, "x", 0);
  publish(bus, "y", 0);
  await bus.flush();
  assert.equal(h.health().instances, { recovering: 0, running: 0, backoff: 0, stopped: 2 });
  await h.stop();
});

test.run();
