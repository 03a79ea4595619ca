/**
 * Partition leases against a real nats-server: the bucket's compare-and-set claims and renewals,
 * expiry by the bucket's max_age, epochs that grow, and the fence that refuses writes once a
 * lease is not fresh.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { LeaseBucket } from "../../../../actors/runtime/cluster/lease_bucket.ts";
import { LeaseFence, LeaseLostError } from "../../../../actors/runtime/cluster/lease_fence.ts";
import { MemoryJournal } from "../../../../actors/runtime/journal/memory_journal.ts";
import { JetStreamJournal } from "../../../../actors/runtime/journal/jetstream/mod.ts";
import { InProcessBus } from "../../../../actors/runtime/transport/in_process_bus.ts";
import { haveNatsServer, natsForSuite } from "../../../_support/nats.ts";

const test = suite("partition leases");
const it = haveNatsServer("partition leases") ? test : test.skip;

const nats = natsForSuite(test, it);

const TTL_MS = 600;

it("claim() is won by one host; renew() holds it; unrenewed, it expires and the next claim has a greater epoch", async () => {
  const bucket = await LeaseBucket.open(nats.nc, { ttlMs: TTL_MS, bucket: "leases_a" });
  const a = await bucket.claim(3, "host-a", Date.now());
  assert.ok(a, "host-a claims a free partition");
  assert.is(await bucket.claim(3, "host-b", Date.now()), undefined, "host-b loses the race");
  const renewed = await bucket.renew(a!, Date.now());
  assert.ok(renewed && renewed.revision > a!.revision);
  assert.is(renewed!.lease.epoch, a!.lease.epoch, "a renewal keeps the epoch");
  assert.is((await bucket.view()).leases.get(3)?.lease.owner, "host-a");
  // host-a stops renewing (a pause, a crash): the key expires, host-b claims it.
  let b;
  for (let i = 0; i < 100 && !b; i++) {
    await new Promise((r) => setTimeout(r, 100));
    b = await bucket.claim(3, "host-b", Date.now());
  }
  assert.ok(b, "host-b claims the partition once host-a's lease expired");
  assert.ok(b!.lease.epoch > a!.lease.epoch, `epoch ${b!.lease.epoch} after ${a!.lease.epoch}`);
  assert.is(await bucket.renew(renewed!, Date.now()), undefined, "host-a's renewal is refused");
  assert.ok(await bucket.release(b!), "host-b releases it");
  assert.is(await bucket.state(3), "released");
  assert.ok(await bucket.claim(3, "host-a", Date.now()), "a released partition is claimed again");
});

it("open() refuses a bucket made with another TTL, naming both", async () => {
  await LeaseBucket.open(nats.nc, { ttlMs: TTL_MS, bucket: "leases_b" });
  await LeaseBucket.open(nats.nc, { ttlMs: 2 * TTL_MS, bucket: "leases_b" }).then(
    () => assert.unreachable("opened with another TTL"),
    (err: Error) => {
      assert.match(err.message, `its TTL (max_age) is ${TTL_MS} ms`);
      assert.match(err.message, `lease_ttl_ms is ${2 * TTL_MS}`);
    },
  );
});

it("a fence past its deadline refuses appends, publishes and snapshots, and says so once", async () => {
  let now = 0;
  const fence = new LeaseFence(5, { epoch: 9, deadlineMs: 100, clock: () => now });
  const lost: string[] = [];
  fence.onLost((why) => lost.push(why));
  const journal = fence.journal(new MemoryJournal());
  const inner = new InProcessBus();
  const seen: string[] = [];
  inner.subscribe("out.>", (m) => seen.push(m.subject));
  const bus = fence.bus(inner);
  assert.is(await journal.append("stats/a", new Uint8Array([1])), 1);
  bus.publish("out.a", new Uint8Array([1]));
  fence.renewed(200);
  now = 150;
  assert.is(await journal.append("stats/a", new Uint8Array([2])), 2, "renewed: still fresh");
  now = 250;
  await Promise.resolve(journal.append("stats/a", new Uint8Array([3]))).then(
    () => assert.unreachable("appended after the lease expired"),
    (err: unknown) => {
      assert.instance(err, LeaseLostError);
      assert.match((err as Error).message, "partition 5 (epoch 9) expired 50 ms ago");
    },
  );
  bus.publish("out.b", new Uint8Array([2]));
  await inner.flush();
  assert.equal(seen, ["out.a"], "nothing published after the loss");
  assert.is(lost.length, 1);
  assert.ok(fence.refused >= 2);
  fence.renewed(10_000);
  assert.is(fence.fresh(), false, "a lost lease stays lost");
});

it("a fence passes a journal's runs of appends on while fresh and refuses them once not", async () => {
  let now = 0;
  const fence = new LeaseFence(6, { epoch: 2, deadlineMs: 100, clock: () => now });
  const inner = await JetStreamJournal.open(nats.nc, {
    stream: "FENCED_RUNS",
    subjectPrefix: "fenced_runs.journal",
  });
  const journal = fence.journal(inner);
  assert.ok(journal.appendMany, "the fenced journal has the runs its journal has");
  assert.is(await journal.appendMany!("stats/a", [new Uint8Array([1]), new Uint8Array([2])]), 1);
  now = 150;
  await journal.appendMany!("stats/a", [new Uint8Array([3]), new Uint8Array([4])]).then(
    () => assert.unreachable("appended a run after the lease expired"),
    (err: unknown) => assert.instance(err, LeaseLostError),
  );
  assert.is(inner.lastPosition("stats/a"), 2);
  assert.is(fence.journal(new MemoryJournal()).appendMany, undefined, "nor more than it has");
  await inner.close();
});

test.run();
