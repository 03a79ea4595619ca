/**
 * The real lease keeper (PartitionLeases) on virtual time: the simulator's in-memory bucket with
 * revisions and max_age expiry, machines paused past a lease, cut off from NATS, with drifting
 * clocks, and the one-writer check (no write accepted from an epoch older than the newest
 * claimed) that catches a fence made too late on purpose.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  type LeaseFence,
  MemoryJournal,
  PartitionLeases,
  type PartitionRunner,
} from "../../actors/runtime/mod.ts";
import { encodePartitionLease } from "../../protocol/mod.ts";
import { Prng } from "../../sim/prng/mod.ts";
import { Scheduler } from "../../sim/scheduler.ts";
import { QUIET_NETWORK, SimBus } from "../../sim/sim_bus.ts";
import { SimLeaseKv } from "../../sim/sim_lease_kv.ts";
import { SimLeaseNode } from "../../sim/_sim_lease_node.ts";

const test = suite("sim leases");
const TTL_MS = 2000;
const COUNT = 12;
const lease = (partition: number, epoch = 1) =>
  encodePartitionLease({ partition, owner: "m1", epoch, renewedMs: 0 });

test("SimLeaseKv: create once, update at the revision, entries expire after the TTL, revisions keep growing", () => {
  const s = new Scheduler(0);
  const kv = new SimLeaseKv(s, { ttlMs: 1000 });
  const r1 = kv.create("partition.1", lease(1));
  assert.throws(() => kv.create("partition.1", lease(1)), /wrong last sequence/);
  assert.throws(() => kv.update("partition.1", lease(1), r1 + 5), /is at 1, not 6/);
  const r2 = kv.update("partition.1", lease(1), r1);
  assert.ok(r2 > r1);
  kv.delete("partition.1", r2);
  assert.is(kv.get("partition.1")?.op, "DEL", "a release leaves a delete marker");
  kv.create("partition.1", lease(1, 4));
  // Not renewed for the TTL: gone, and an update at its last revision is refused.
  s.after(1_000_000, () => {});
  return s.run(1_000_000).then(() => {
    assert.is(kv.get("partition.1"), undefined, "expired at the TTL");
    assert.throws(() => kv.update("partition.1", lease(1), 4), /is at 0, not 4/);
    assert.is(kv.lastRevision, 4, "the stream's last revision outlives its entries");
    assert.equal(kv.keys(), []);
  });
});

test("SimLeaseKv rejects a TTL that is not a positive number, naming it", () => {
  assert.throws(() => new SimLeaseKv(new Scheduler(0), { ttlMs: 0 }), /"ttlMs" must be > 0, got 0/);
});

/** A machine: its node and its real lease keeper, whose partitions append while fresh. */
interface Machine {
  id: string;
  node: SimLeaseNode;
  leases: PartitionLeases;
  /** Appends accepted, and refused by the fence. */
  appends: number;
  refused: number;
  /** What its lease keeper logged. */
  logs: string[];
}

/** A cluster of `n` machines on one bucket; `stale` collects writes from an epoch overtaken. */
function cluster(n: number, rates: number[] = [], stopMs = 0, settleMs = 0) {
  const scheduler = new Scheduler(0);
  const kv = new SimLeaseKv(scheduler, { ttlMs: TTL_MS });
  const bus = new SimBus({ scheduler, prng: new Prng(1), faults: QUIET_NETWORK });
  const journal = new MemoryJournal();
  const stale: string[] = [];
  const machines: Machine[] = [];
  for (let i = 0; i < n; i++) {
    const id = `m${i + 1}`;
    const node = new SimLeaseNode({
      scheduler,
      timers: scheduler.timers(),
      latencyUs: 2000,
      skewUs: (i - 1) * 3_000_000,
      rate: rates[i] ?? 1,
    });
    const m: Machine = { id, node, appends: 0, refused: 0, logs: [] } as unknown as Machine;
    const writer = (p: number, fence: LeaseFence): PartitionRunner => {
      // Every write lands in the shared journal, checked against the newest epoch claimed.
      const fenced = fence.journal({
        append: (stream, data) => {
          if (fence.epoch < kv.newestEpoch(p)) {
            stale.push(`${id} wrote partition ${p} at epoch ${fence.epoch} < ${kv.newestEpoch(p)}`);
          }
          return journal.append(stream, data);
        },
        lastPosition: (s) => journal.lastPosition(s),
        streams: () => journal.streams(),
        read: (s, after) => journal.read(s, after),
        readAll: (after) => journal.readAll(after),
        sync: () => journal.sync(),
        stats: () => journal.stats(),
        close: () => journal.close(),
      });
      let on = true;
      // As a leased host does: a lost lease fails the partition's host, which lets it go.
      fence.onLost((why) => m.leases.failed(p, new Error(why)));
      const beat = () => {
        if (!on) return;
        Promise.resolve(fenced.append(`p${p}`, new Uint8Array([p]))).then(
          () => (m.appends++, node.timers.setTimeout(beat, 100)),
          () => (m.refused++, on = false),
        );
      };
      node.timers.setTimeout(beat, 100);
      const halt = () => (on = false, Promise.resolve());
      // A stop that flushes for `stopMs`, writing on meanwhile, as a host's snapshots do.
      const stop = () =>
        new Promise<void>((resolve) => node.timers.setTimeout(resolve, stopMs)).then(halt);
      return { stop, abandon: halt };
    };
    m.leases = new PartitionLeases({
      hostId: id,
      count: COUNT,
      bucket: kv.storeFor(node),
      heartbeatMs: 500,
      settleMs,
      bus: bus.connect(id),
      start: (p, fence) => Promise.resolve(writer(p, fence)),
      log: (msg) => {
        m.logs.push(msg);
        if (process.env.LEASE_DEBUG) console.log(`${scheduler.nowUs / 1e6} ${id} ${msg}`);
      },
      now: node.wallMs,
      clock: node.clockMs,
      timers: node.timers,
    });
    machines.push(m);
  }
  const start = () => Promise.all(machines.map((m) => m.leases.start()));
  /** Starts machine i at `offsetsMs[i]` of virtual time (not awaited: the scheduler would wait). */
  const startAt = (offsetsMs: number[]) =>
    machines.forEach((m, i) =>
      scheduler.after((offsetsMs[i] ?? 0) * 1000, () => void m.leases.start())
    );
  return { scheduler, kv, machines, stale, start, startAt };
}

test("three machines share 12 partitions evenly; one paused past its lease loses them, writes nothing stale, and gets its share back", async () => {
  const c = cluster(3);
  const [m1, m2, m3] = c.machines as [Machine, Machine, Machine];
  void c.start();
  await c.scheduler.run(3_000_000);
  assert.equal(c.machines.map((m) => m.leases.owned().length), [4, 4, 4]);
  const pausedOwned = m1.leases.owned();
  m1.node.pause();
  await c.scheduler.run(3_000_000 + 3 * TTL_MS * 1000);
  for (const p of pausedOwned) {
    const holder = [m2, m3].find((m) => m.leases.owned().includes(p));
    assert.ok(holder, `partition ${p} taken over while m1 is paused`);
  }
  assert.ok(m2.leases.counts.takeovers + m3.leases.counts.takeovers >= pausedOwned.length);
  m1.node.resume();
  await c.scheduler.run(3_000_000 + 6 * TTL_MS * 1000);
  assert.ok(m1.refused > 0, "m1's writers were refused when it woke");
  assert.ok(m1.leases.counts.lost >= pausedOwned.length, "m1 dropped what it held");
  assert.equal(c.machines.map((m) => m.leases.owned().length), [4, 4, 4], "m1 has its share again");
  assert.equal(c.stale, [], "no write from an overtaken epoch");
});

test("a machine cut off from NATS stops writing before its partitions are taken over", async () => {
  const c = cluster(3);
  const m2 = c.machines[1]!;
  void c.start();
  await c.scheduler.run(3_000_000);
  const held = m2.leases.owned();
  m2.node.cut = true;
  await c.scheduler.run(3_000_000 + 3 * TTL_MS * 1000);
  assert.equal(m2.leases.owned(), [], "m2 let its partitions go");
  const others = c.machines.filter((m) => m !== m2).flatMap((m) => m.leases.owned()).sort((a, b) =>
    a - b
  );
  assert.equal(others, [...Array(COUNT).keys()], "the others hold every partition");
  assert.ok(held.length > 0 && m2.leases.counts.lost >= held.length);
  assert.equal(c.stale, []);
});

test("a machine whose partitions take three TTLs to flush as it stops renews them until each is released", async () => {
  const c = cluster(3, [], 3 * TTL_MS);
  const [m1, m2, m3] = c.machines as [Machine, Machine, Machine];
  void c.start();
  await c.scheduler.run(3_000_000);
  const held = m1.leases.owned();
  assert.is(held.length, 4);
  let stopped = false;
  void m1.leases.stop().then(() => (stopped = true));
  await c.scheduler.run(3_000_000 + 6 * TTL_MS * 1000);
  assert.ok(stopped, "m1 stopped");
  assert.is(m1.refused, 0, "no write of m1's refused by its fence while it flushed");
  assert.is(m1.leases.counts.lost, 0, "no lease of m1's ran out");
  assert.is(m1.leases.counts.released, held.length, "each partition released");
  assert.is(m2.leases.counts.takeovers + m3.leases.counts.takeovers, 0, "none taken over");
  assert.equal([...m2.leases.owned(), ...m3.leases.owned()].sort((a, b) => a - b), [
    ...Array(COUNT).keys(),
  ]);
  assert.equal(c.stale, []);
});

test("a clock drifting 10% slow stays within the fence's margin", async () => {
  const c = cluster(3, [0.9, 1.1, 1]);
  void c.start();
  await c.scheduler.run(3_000_000);
  c.machines[0]!.node.cut = true;
  await c.scheduler.run(3_000_000 + 3 * TTL_MS * 1000);
  assert.equal(c.machines[0]!.leases.owned(), []);
  assert.equal(c.stale, []);
});

test("the one-writer check catches a fence that trusts a clock running at half speed", async () => {
  const c = cluster(3, [0.5]);
  const m1 = c.machines[0]!;
  void c.start();
  await c.scheduler.run(3_000_000);
  m1.node.cut = true;
  await c.scheduler.run(3_000_000 + 3 * TTL_MS * 1000);
  assert.ok(c.stale.length > 0, "m1 wrote after another machine claimed its partition");
  assert.match(c.stale[0]!, /^m1 wrote partition \d+ at epoch \d+ < \d+$/);
});

/** Partitions claimed, and handed off, by the machines, in all. */
const claimsAndHandoffs = (machines: Machine[]) => ({
  claimed: machines.reduce((n, m) => n + m.leases.counts.claimed, 0),
  released: machines.reduce((n, m) => n + m.leases.counts.released, 0),
});

test("machines started 0.2 s apart on a cold cluster each claim their own share, none twice", async () => {
  const settled = cluster(3, [], 0, 400);
  settled.startAt([0, 200, 400]);
  await settled.scheduler.run(4_000_000);
  assert.equal(settled.machines.map((m) => m.leases.owned().length), [4, 4, 4]);
  assert.equal(claimsAndHandoffs(settled.machines), { claimed: 12, released: 0 });
  assert.match(settled.machines[0]!.logs.join("\n"), /cold start: 3 host\(s\) seen after \d+ ms/);
  // The same start without the settle: the first machine claims every partition, then hands
  // most of them over.
  const eager = cluster(3, [], 0, 0);
  eager.startAt([0, 200, 400]);
  await eager.scheduler.run(4_000_000);
  assert.equal(eager.machines.map((m) => m.leases.owned().length), [4, 4, 4]);
  const { claimed, released } = claimsAndHandoffs(eager.machines);
  assert.ok(released >= 4 && claimed === 12 + released, `claimed ${claimed}, released ${released}`);
  assert.equal([settled.stale, eager.stale], [[], []]);
});

test("a machine alone waits the settle once; one joining a cluster whose partitions are held does not", async () => {
  const c = cluster(2, [], 0, 400);
  const [m1, m2] = c.machines as [Machine, Machine];
  c.startAt([0, 3_000]);
  await c.scheduler.run(300_000);
  assert.equal(m1.leases.owned(), [], "nothing claimed while it settles");
  await c.scheduler.run(1_500_000);
  assert.is(m1.leases.owned().length, COUNT, "every partition once the hosts seen stayed the same");
  await c.scheduler.run(3_000_000 + 1_200_000);
  assert.equal(c.machines.map((m) => m.leases.owned().length), [6, 6]);
  assert.ok(!m2.logs.some((l) => l.includes("cold start")), m2.logs.join("\n"));
  assert.equal(c.stale, []);
});

test.run();
