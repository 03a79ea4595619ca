/**
 * The gauges a host refreshes every second over its instances (liveness.ts): the inputs waiting,
 * each kind's lag (the age of its oldest input waiting, 0 when none waits) and the instances by
 * status, handed to its health.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { barsActor } from "../../../../actors/bars/mod.ts";
import { statsActor } from "../../../../actors/stats/mod.ts";
import { MemoryJournal } from "../../../../actors/runtime/mod.ts";
import { HostMetrics } from "../../../../actors/runtime/operations/host_metrics.ts";
import {
  newSlot,
  type Pending,
  type Slot,
  type Status,
} from "../../../../actors/runtime/instances/mod.ts";
import { hostHealth, refreshGauges } from "../../../../actors/runtime/host/liveness.ts";
import { GaugeSlots } from "../../../../actors/runtime/host/gauge_slots.ts";
import { SlotMap } from "../../../../actors/runtime/host/_slot_map.ts";
import type { AnyActorDefinition } from "../../../../protocol/mod.ts";

const test = suite("liveness");

/** A slot of `def` for `key` with inputs waiting that arrived at `arrivals` (ms), one taken. */
function slotWith(def: AnyActorDefinition, key: string, arrivals: number[], status: Status) {
  const metrics = new HostMetrics({ host: "h" });
  const slot = newSlot(def, key, metrics.tally(def.kind));
  slot.status = status;
  slot.mailbox = arrivals.map((arrivedMs) => ({ arrivedMs }) as Pending);
  slot.head = arrivals.length > 0 ? 1 : 0;
  return slot;
}

/** The gauges' view of `slots`, each noted as the host notes it (waiting, not running). */
function gaugesOf(slots: Slot[]): GaugeSlots {
  const gauges = new GaugeSlots(new SlotMap());
  for (const slot of slots) {
    gauges.all.set(slot.stream, slot);
    if (slot.mailbox.length > slot.head) gauges.noteWaiting(slot);
    gauges.noteStatus(slot);
  }
  return gauges;
}

function health(instances: Record<Status, number>) {
  const none = { input: undefined, progress: undefined };
  return hostHealth({
    instances,
    ready: true,
    closing: false,
    fatal: undefined,
    checks: [],
    ...none,
  });
}

test("refreshGauges() sets each kind's lag from its oldest input waiting, counts what waits and the statuses", async () => {
  const now = performance.now();
  const slots = [
    slotWith(barsActor, "a", [], "running"),
    slotWith(statsActor, "b", [now - 7000, now - 6000], "backoff"),
    slotWith(statsActor, "a", [now - 9000, now - 4000, now - 3000], "running"),
    slotWith(barsActor, "b", [now - 1000, now - 2000, now - 500], "recovering"),
    slotWith(statsActor, "c", [], "stopped"),
  ];
  const metrics = new HostMetrics({ host: "h" });
  let counted: Record<Status, number> | undefined;
  const depth = refreshGauges(metrics, new MemoryJournal(), gaugesOf(slots), (instances) => {
    counted = instances;
    return health(instances);
  });
  // Past each slot's head: 2 + 0 + 1 + 2 + 0.
  assert.is(depth, 5);
  assert.equal(counted, { recovering: 1, running: 2, backoff: 1, stopped: 1 });
  const text = await metrics.text();
  const lag = (kind: string) => {
    const m = new RegExp(`^troupe_lag_seconds\\{kind="${kind}",host="h"\\} (\\S+)$`, "m").exec(
      text,
    );
    return Number(m?.[1]);
  };
  // stats: the oldest waiting is b's 6 s (a's 9 s was taken); bars: b's 2 s.
  assert.ok(Math.abs(lag("stats") - 6) < 0.5, `stats lag ${lag("stats")}`);
  assert.ok(Math.abs(lag("bars") - 2) < 0.5, `bars lag ${lag("bars")}`);
  assert.match(text, /^troupe_mailbox_depth\{host="h"\} 5$/m);
});

test("refreshGauges() sets a kind's lag to 0 when none of its inputs waits", async () => {
  const metrics = new HostMetrics({ host: "h" });
  const slots = [slotWith(statsActor, "a", [], "running"), slotWith(barsActor, "a", [], "running")];
  assert.is(refreshGauges(metrics, new MemoryJournal(), gaugesOf(slots), health), 0);
  const text = await metrics.text();
  assert.match(text, /^troupe_lag_seconds\{kind="stats",host="h"\} 0$/m);
  assert.match(text, /^troupe_lag_seconds\{kind="bars",host="h"\} 0$/m);
});

test("refreshGauges() lets go of a slot whose inputs were taken, and counts it again once noted", () => {
  const now = performance.now();
  const slot = slotWith(statsActor, "a", [now - 3000, now - 2000], "running");
  const gauges = gaugesOf([slot]);
  const metrics = new HostMetrics({ host: "h" });
  assert.is(refreshGauges(metrics, new MemoryJournal(), gauges, health), 1);
  slot.head = 2; // the pump took it
  assert.is(refreshGauges(metrics, new MemoryJournal(), gauges, health), 0);
  assert.is(gauges.waiting.size, 0, "an empty mailbox leaves the set");
  slot.mailbox.push({ arrivedMs: now } as Pending);
  gauges.noteWaiting(slot);
  assert.is(refreshGauges(metrics, new MemoryJournal(), gauges, health), 1);
});

test.run();
