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
import { newSlot, type Pending, type Status } from "../../../../actors/runtime/instances/mod.ts";
import { hostHealth, refreshGauges } from "../../../../actors/runtime/host/liveness.ts";
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
  const depth = refreshGauges(metrics, new MemoryJournal(), slots, (instances) => {
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
  assert.is(refreshGauges(metrics, new MemoryJournal(), slots, health), 0);
  const text = await metrics.text();
  assert.match(text, /^troupe_lag_seconds\{kind="stats",host="h"\} 0$/m);
  assert.match(text, /^troupe_lag_seconds\{kind="bars",host="h"\} 0$/m);
});

test.run();
