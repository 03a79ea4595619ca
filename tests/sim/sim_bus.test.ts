import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { BusMessage, BusRequestError } from "../../protocol/mod.ts";
import { Prng } from "../../sim/prng/mod.ts";
import { Scheduler } from "../../sim/scheduler.ts";
import { type NetworkFaults, QUIET_NETWORK, SimBus } from "../../sim/sim_bus.ts";

const test = suite("sim_bus");
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (m: BusMessage) => new TextDecoder().decode(m.data);

function setup(seed = 1, faults: NetworkFaults = QUIET_NETWORK) {
  const scheduler = new Scheduler(0);
  const lines: string[] = [];
  const bus = new SimBus({ scheduler, prng: new Prng(seed), faults, trace: (l) => lines.push(l) });
  return { scheduler, bus, lines };
}

test("Scheduler runs events in time order, ties in the order they were scheduled", async () => {
  const s = new Scheduler(1000);
  const order: string[] = [];
  s.at(1500, () => void order.push(`b@${s.nowUs}`));
  s.at(1200, () => void order.push(`a@${s.nowUs}`));
  s.at(1500, () => void order.push(`c@${s.nowUs}`));
  const cancelled = s.at(1300, () => void order.push("never"));
  s.after(100, () => {
    order.push(`d@${s.nowUs}`);
    s.after(0, () => void order.push(`e@${s.nowUs}`));
  });
  s.cancel(cancelled);
  assert.is(s.pending, 4);
  assert.is(await s.run(1400), 3);
  assert.equal(order, ["d@1100", "e@1100", "a@1200"]);
  assert.is(s.nowUs, 1400);
  await s.run(2000);
  assert.equal(order, ["d@1100", "e@1100", "a@1200", "b@1500", "c@1500"]);
  assert.is(s.pending, 0);
  assert.is(s.nowUs, 2000);
});

test("Scheduler runs events in (time, order scheduled) order however they were scheduled", async () => {
  const seed = 11;
  const rng = new Prng(seed);
  const s = new Scheduler(0);
  const ran: number[] = [];
  const expected: { timeUs: number; id: number; cancelled: boolean }[] = [];
  let id = 0;
  const schedule = (timeUs: number) => {
    const mine = id++;
    const handle = s.at(timeUs, () => {
      ran.push(mine);
      // Events scheduled while running: some later than everything, some among the others.
      if (rng.chance(0.3)) schedule(s.nowUs + rng.int(3) * 1000);
      if (rng.chance(0.05)) schedule(s.nowUs + 2_000_000);
    });
    const entry = { timeUs: handle.timeUs, id: mine, cancelled: false };
    expected.push(entry);
    if (rng.chance(0.1)) {
      s.cancel(handle);
      entry.cancelled = true;
    }
  };
  // A feed-like run of events in time order, then others at random times.
  for (let t = 0; t < 1000; t++) schedule(t * 997);
  for (let k = 0; k < 500; k++) schedule(rng.int(1_000_000));
  await s.run(10_000_000);
  const order = expected
    .filter((e) => !e.cancelled)
    .sort((a, b) => a.timeUs - b.timeUs || a.id - b.id)
    .map((e) => e.id);
  assert.equal(ran, order, `seed ${seed}`);
  assert.is(s.pending, 0);
  assert.is(s.nextTimeUs(), undefined);
});

test("Scheduler timer groups take milliseconds and cancelAll silences the whole group", async () => {
  const s = new Scheduler(0);
  const a = s.timers();
  const b = s.timers();
  const fired: string[] = [];
  a.setTimeout(() => fired.push(`a1@${s.nowUs}`), 2);
  const h = a.setTimeout(() => fired.push("a2"), 3);
  b.setTimeout(() => fired.push(`b@${s.nowUs}`), 5);
  a.clearTimeout(h);
  a.setTimeout(() => fired.push("a3"), 4);
  await s.run(3000);
  a.cancelAll();
  assert.is(a.setTimeout(() => fired.push("late"), 1), undefined);
  await s.run(10_000);
  assert.equal(fired, ["a1@2000", "b@5000"]);
  assert.ok(a.closed);
});

test("Scheduler lets promise continuations of an event run before the run returns", async () => {
  const s = new Scheduler(0);
  const got: number[] = [];
  s.at(10, () => {
    void Promise.resolve().then(() => got.push(1)).then(() => got.push(2)).then(() => got.push(3));
  });
  await s.run(10);
  assert.equal(got, [1, 2, 3]);
});

test("Scheduler: an event that marks async work has all of it run, however deep, before the next", async () => {
  const s = new Scheduler(0);
  const seen: string[] = [];
  const chain = async (name: string) => {
    for (let i = 0; i < 1000; i++) await null;
    seen.push(`${name} done`);
  };
  s.at(10, () => {
    s.markAsync();
    void chain("marked");
  });
  s.at(10, () => void seen.push("next event"));
  // Unmarked, the chain is still under way when the next event runs.
  s.at(20, () => void chain("unmarked"));
  s.at(20, () => void seen.push("next event"));
  await s.run(20);
  assert.equal(seen, ["marked done", "next event", "next event", "unmarked done"]);
});

test("Scheduler: an event that marks nothing gives its continuations one microtask turn before the next", async () => {
  // The simulation's runs depend on this exact interleaving (its trace hashes are pinned): one
  // level of continuations runs before the next event, a deeper one after it.
  const s = new Scheduler(0);
  const seen: string[] = [];
  s.at(10, () => {
    void Promise.resolve().then(() => {
      seen.push("first");
      void Promise.resolve().then(() => seen.push("second"));
    });
  });
  s.at(10, () => void seen.push("next event"));
  await s.run(10);
  assert.equal(seen, ["first", "next event", "second"]);
});

test("Scheduler: events of call run in (time, order scheduled) order among those of at, with their arguments", async () => {
  const seed = 5;
  const rng = new Prng(seed);
  const s = new Scheduler(0);
  const ran: string[] = [];
  const expected: { timeUs: number; seq: number; name: string }[] = [];
  let seq = 0;
  const record = (name: string, timeUs: number) => expected.push({ timeUs, seq: seq++, name });
  const called = (name: string, n: number) => {
    ran.push(`${name}:${n}`);
    // Calls made while running reuse the events of calls that ran.
    if (rng.chance(0.5)) {
      const t = s.nowUs + rng.int(4) * 100;
      const next = `c${seq}`;
      record(`${next}:${n + 1}`, t);
      s.call(t, called, next, n + 1);
    }
  };
  for (let i = 0; i < 200; i++) {
    const t = rng.int(50) * 100;
    if (rng.chance(0.5)) {
      const name = `a${seq}`;
      record(name, t);
      s.at(t, () => void ran.push(name));
    } else {
      const name = `c${seq}`;
      record(`${name}:0`, t);
      s.call(t, called, name, 0);
    }
  }
  await s.run(1_000_000);
  expected.sort((a, b) => a.timeUs - b.timeUs || a.seq - b.seq);
  assert.equal(ran, expected.map((e) => e.name), `seed ${seed}`);
  assert.is(s.pending, 0);
});

test("SimBus delivers on wildcard subjects after the network's latency, never inside publish", async () => {
  const { scheduler, bus } = setup();
  const a = bus.connect("a");
  const b = bus.connect("b");
  const got: string[] = [];
  b.subscribe("troupe.feed.*.x", (m) => got.push(`${m.subject}=${text(m)}@${scheduler.nowUs}`));
  b.subscribe("troupe.>", (m) => got.push(`>${text(m)}`));
  a.publish("troupe.feed.market.x", bytes("1"));
  a.publish("troupe.feed.market.y", bytes("2"));
  a.publish("other.subject", bytes("3"));
  assert.equal(got, []);
  await scheduler.run(10_000);
  assert.is(got.length, 3);
  assert.ok(got.includes(">1") && got.includes(">2"));
  const exact = got.find((g) => g.startsWith("troupe.feed.market.x=1@"))!;
  const at = Number(exact.split("@")[1]);
  assert.ok(at >= QUIET_NETWORK.latencyUsMin && at <= QUIET_NETWORK.latencyUsMax, `at ${at}`);
  assert.is(bus.stats.unrouted, 1);
});

test("SimBus: a pattern without a whole-token wildcard matches only the subject it spells", async () => {
  const { scheduler, bus } = setup();
  const a = bus.connect("a");
  const b = bus.connect("b");
  const got: string[] = [];
  b.subscribe("x.a*.y", (m) => got.push(`lit:${m.subject}`));
  b.subscribe("x.*.y", (m) => got.push(`wild:${m.subject}`));
  a.publish("x.a*.y", bytes("1"));
  a.publish("x.ab.y", bytes("2"));
  await scheduler.run(10_000);
  assert.equal(got.sort(), ["lit:x.a*.y", "wild:x.a*.y", "wild:x.ab.y"]);
});

test("SimBus routes to a literal subscription made or dropped after its subject's route was known", async () => {
  const { scheduler, bus } = setup();
  const a = bus.connect("a"), b = bus.connect("b"), p = bus.connect("p");
  const got: string[] = [];
  a.subscribe("x.*", (m) => void got.push(`a ${text(m)}`));
  p.publish("x.y", bytes("1"));
  await scheduler.run(10_000);
  const sub = b.subscribe("x.y", (m) => void got.push(`b ${text(m)}`));
  p.publish("x.y", bytes("2"));
  await scheduler.run(20_000);
  sub.unsubscribe();
  p.publish("x.y", bytes("3"));
  await scheduler.run(30_000);
  assert.equal(got, ["a 1", "a 2", "b 2", "a 3"]);
});

test("SimBus keeps per-link order on a quiet network", async () => {
  const { scheduler, bus } = setup(7);
  const a = bus.connect("a");
  const b = bus.connect("b");
  const got: number[] = [];
  b.subscribe("s", (m) => got.push(Number(text(m))));
  for (let i = 0; i < 200; i++) {
    a.publish("s", bytes(String(i)));
    scheduler.after(i % 3 === 0 ? 0 : 37, () => {});
    await scheduler.step();
  }
  await scheduler.run(1_000_000);
  assert.equal(got, Array.from({ length: 200 }, (_, i) => i));
});

test("SimBus hands each message to one member of a queue group, chosen by the seed", async () => {
  const run = async (seed: number) => {
    const { scheduler, bus } = setup(seed);
    const pub = bus.connect("pub");
    const counts = [0, 0, 0];
    let plain = 0;
    for (let i = 0; i < 3; i++) {
      bus.connect(`w${i}`).subscribe("work.*", () => counts[i]!++, { queue: "workers" });
    }
    bus.connect("watcher").subscribe("work.>", () => plain++);
    for (let i = 0; i < 300; i++) pub.publish(`work.${i}`, bytes("x"));
    await scheduler.run(1_000_000);
    return { counts, plain };
  };
  const a = await run(3);
  assert.is(a.counts.reduce((x, y) => x + y, 0), 300);
  assert.is(a.plain, 300);
  for (const c of a.counts) assert.ok(c > 50, `a member got ${c} of 300`);
  assert.equal(await run(3), a);
});

test("SimBus drops, duplicates and reorders as the seed decides, the same way every time", async () => {
  const faults: NetworkFaults = {
    dropP: 0.1,
    dupP: 0.1,
    reorderP: 0.1,
    reorderDelayUs: 50_000,
    latencyUsMin: 100,
    latencyUsMax: 1000,
  };
  const run = async (seed: number) => {
    const { scheduler, bus, lines } = setup(seed, faults);
    const a = bus.connect("a");
    const got: number[] = [];
    bus.connect("b").subscribe("s", (m) => got.push(Number(text(m))));
    for (let i = 0; i < 1000; i++) {
      a.publish("s", bytes(String(i)));
      scheduler.after(200, () => {});
      await scheduler.step();
    }
    await scheduler.run(10_000_000);
    return { got, stats: { ...bus.stats }, lines };
  };
  const r = await run(11);
  const distinct = new Set(r.got);
  assert.ok(r.stats.dropped > 50 && r.stats.dropped < 150, `dropped ${r.stats.dropped}`);
  assert.ok(r.stats.duplicated > 50, `duplicated ${r.stats.duplicated}`);
  assert.ok(r.stats.reordered > 50, `reordered ${r.stats.reordered}`);
  assert.is(distinct.size, 1000 - r.stats.dropped);
  assert.is(r.got.length, distinct.size + r.stats.duplicated);
  let inversions = 0;
  for (let i = 1; i < r.got.length; i++) if (r.got[i]! < r.got[i - 1]!) inversions++;
  assert.ok(inversions > 50, `${inversions} out-of-order deliveries`);
  assert.ok(r.lines.some((l) => l.startsWith("net drop a>b s")));
  const again = await run(11);
  assert.equal(again.got, r.got);
  assert.equal(again.lines, r.lines);
  const other = await run(12);
  assert.not.equal(other.got, r.got);
});

test("SimBus loses what an isolated process sends and what is sent to it, until healed", async () => {
  const { scheduler, bus, lines } = setup();
  const a = bus.connect("a");
  const b = bus.connect("b");
  const atB: string[] = [];
  const atA: string[] = [];
  b.subscribe("to.b", (m) => atB.push(text(m)));
  a.subscribe("to.a", (m) => atA.push(text(m)));
  bus.isolate("b");
  assert.ok(bus.isIsolated("b"));
  a.publish("to.b", bytes("lost-in"));
  b.publish("to.a", bytes("lost-out"));
  await scheduler.run(100_000);
  bus.heal("b");
  a.publish("to.b", bytes("cut-in-flight"));
  scheduler.after(10, () => bus.isolate("b")); // cut after it left, before it arrives
  await scheduler.run(200_000);
  bus.healAll();
  a.publish("to.b", bytes("after"));
  b.publish("to.a", bytes("after"));
  await scheduler.run(300_000);
  assert.equal(atB, ["after"]);
  assert.equal(atA, ["after"]);
  assert.is(bus.stats.dropped, 3);
  assert.equal(lines.filter((l) => l.startsWith("net partition") || l.startsWith("net heal")), [
    "net partition b",
    "net heal b",
    "net partition b",
    "net heal b",
  ]);
});

test("SimBus: a killed connection hears nothing and sends nothing; a closed one refuses to publish", async () => {
  const { scheduler, bus } = setup();
  const a = bus.connect("a");
  const b = bus.connect("b");
  const got: string[] = [];
  b.subscribe("s", (m) => got.push(text(m)));
  a.publish("s", bytes("in flight"));
  b.kill();
  b.publish("s", bytes("from the dead"));
  await scheduler.run(100_000);
  assert.equal(got, []);
  assert.not.ok(b.alive);
  assert.equal(b.subscribe("s", () => got.push("ghost")).unsubscribe(), undefined);
  const b2 = bus.connect("b"); // the process restarts under the same name
  b2.subscribe("s", (m) => got.push(`b2:${text(m)}`));
  a.publish("s", bytes("hello"));
  await scheduler.run(200_000);
  assert.equal(got, ["b2:hello"]);
  assert.throws(() => bus.connect("b"), /already connected/);
  await a.close();
  assert.throws(() => a.publish("s", bytes("x")), /connection "a" is closed/);
});

test("SimBus request gets the reply, or times out on virtual time", async () => {
  const { scheduler, bus } = setup();
  const server = bus.connect("server");
  const client = bus.connect("client");
  server.subscribe("echo", (m) => server.publish(m.reply!, bytes(`re:${text(m)}`)));
  const reply = client.request("echo", bytes("hi"), { timeout: 50 });
  await scheduler.run(100_000);
  assert.is(text(await reply), "re:hi");
  bus.isolate("server");
  const timedOut = client.request("echo", bytes("hi"), { timeout: 50 }).then(
    () => "replied",
    (err: Error) => `${err.name}: ${err.message}@${scheduler.nowUs}`,
  );
  await scheduler.run(1_000_000);
  assert.is(await timedOut, 'BusRequestError: Request on "echo" timed out after 50 ms@150000');
  const none = await client.request("nobody", bytes(""), { timeout: 5 }).catch((e: Error) =>
    e.message
  );
  assert.is(none, 'No responders on "nobody"');
  const flagged = await client.request("nobody", bytes(""), { timeout: 5 }).catch((e) => e);
  assert.is((flagged as BusRequestError).noResponders, true);
});

test.run();
