/**
 * The host's clock ticks (ticker.ts): journaled per instance of a time-driven kind, on the host's
 * timers and clock (virtual here, as in the simulator), so a quiet channel's bar closes; replaying
 * the journal gives the same state. A host ticks when told to (`tickEveryMs`; launchHost does).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { barsActor } from "../../../../actors/bars/mod.ts";
import { statsActor } from "../../../../actors/stats/mod.ts";
import {
  Host,
  type HostTimers,
  InProcessBus,
  type Journal,
  MemoryJournal,
  MemorySnapshotStore,
} from "../../../../actors/runtime/mod.ts";
import { ActorInstance } from "../../../../actors/runtime/instances/actor_instance.ts";
import { HostMetrics } from "../../../../actors/runtime/operations/host_metrics.ts";
import { newSlot } from "../../../../actors/runtime/instances/slot.ts";
import {
  LOOKS_PER_SLICE_MAX,
  Ticker,
  TICKS_PER_SLICE_MAX,
} from "../../../../actors/runtime/host/ticker.ts";
import {
  type AnyActorDefinition,
  decodeEnvelope,
  decodeInputRecord,
  decodeTickNotices,
  encodeFrame,
  type Envelope,
  feedSubject,
  type TickNotice,
  tickSubject,
} from "../../../../protocol/mod.ts";
import { virtualTime } from "../../../_support/virtual_time.ts";

const test = suite("ticker");

const T0_US = 1_700_000_000_000_000;

function host(
  bus: InProcessBus,
  journal: Journal,
  time: ReturnType<typeof virtualTime>,
  sizes = ["1s"],
) {
  return new Host({
    hostId: "h",
    bus,
    actors: [barsActor, statsActor],
    config: { bars: { bar_sizes: sizes } },
    journal,
    snapshots: new MemorySnapshotStore(),
    timers: time.timers,
    now: time.now,
    tickEveryMs: 1000,
    log: () => {},
  });
}

async function kinds(journal: Journal, stream: string): Promise<string[]> {
  const out: string[] = [];
  for await (const r of journal.read(stream)) out.push(decodeInputRecord(r.data).kind);
  return out;
}

test("the host ticks bars instances about every second on its own clock: a quiet channel's bar closes once, past its grace; stats gets no ticks; the tick is told with the input it came after; replay gives the same state", async () => {
  const bus = new InProcessBus();
  const journal = new MemoryJournal();
  const time = virtualTime(T0_US / 1000 + 500);
  const bars: Envelope[] = [];
  bus.subscribe("troupe.out.bars.>", (m) => bars.push(decodeEnvelope(m.data)));
  const told: TickNotice[] = [];
  bus.subscribe(tickSubject("h"), (m) => told.push(...decodeTickNotices(m.data)));
  const h = host(bus, journal, time);
  await h.start();
  const t = Float64Array.from({ length: 10 }, (_, i) => T0_US + i * 90_000);
  const v = Float64Array.from({ length: 10 }, (_, i) => 50 + (i % 3));
  bus.publish(
    feedSubject("m", "a"),
    encodeFrame({ channel: "a", seq0: 0, t, v }, { id: "f1", src: "t" }),
  );
  await bus.flush();
  // The 1 s bar of T0 is due at T0 + 2 s (its end and the 1 s grace), once the channel has been
  // quiet for 2 s of the host's clock (a bar and the grace) from when the host first saw it wait.
  time.advance(1000); // T0 + 1.5 s: first seen waiting
  time.advance(1000); // T0 + 2.5 s: quiet for 1 s
  await bus.flush();
  assert.is(bars.length, 0);
  time.advance(1000); // T0 + 3.5 s: quiet for 2 s
  await bus.flush();
  assert.is(bars.length, 1);
  const bar = bars[0]!.body as Record<string, number>;
  assert.equal([bar.open, bar.high, bar.low, bar.close], [50, 52, 50, 50]);
  time.advance(5000);
  await bus.flush();
  assert.is(bars.length, 1, "a closed bar closes once");
  const recorded = await kinds(journal, "bars/a");
  assert.equal(recorded.slice(0, 2), ["init", "frame"]);
  // A tick is journaled only when one is due: the one that closed the bar, at its due time.
  assert.is(recorded.filter((k) => k === "tick").length, 1);
  let tickTs = 0;
  let tickPayload: Uint8Array = new Uint8Array();
  for await (const r of journal.read("bars/a")) {
    const rec = decodeInputRecord(r.data);
    if (rec.kind === "tick") tickTs = decodeEnvelope(rec.payload).ts, tickPayload = rec.payload;
  }
  assert.is(tickTs, T0_US + 2e6);
  assert.equal(told, [{ stream: "bars/a", tick: tickPayload, after: "f1" }]);
  assert.not.ok((await kinds(journal, "stats/a")).includes("tick"));
  const saved = barsActor.kernel.save(h.instance("bars", "a")!.kernelState as never).slice();
  await h.stop();

  // Replay: the same journal folded by a new host (no snapshots) gives the same bars.
  const again = host(new InProcessBus(), journal, virtualTime(time.now()));
  await again.start();
  const replayed = barsActor.kernel.save(again.instance("bars", "a")!.kernelState as never);
  assert.equal(replayed, saved);
  await again.stop();
});

test("a channel sampled every 15 s is not ticked once a sample: its next sample closes its one-second bar, and its minute's tick the last one when it goes quiet", async () => {
  const bus = new InProcessBus();
  const journal = new MemoryJournal();
  const m0 = Math.ceil(T0_US / 60e6) * 60e6; // a whole minute, µs
  const time = virtualTime(m0 / 1000);
  const bars: { bar: string; t: number; count: number }[] = [];
  bus.subscribe("troupe.out.bars.>", (m) => bars.push(decodeEnvelope(m.data).body as never));
  const h = host(bus, journal, time, ["1s", "1m"]);
  await h.start();
  // Twelve samples, at 5, 20, 35, ... 170 s past the minute, each sent when its time comes.
  for (let s = 0; s <= 300; s++) {
    if (s % 15 === 5 && s <= 170) {
      const t = Float64Array.of(m0 + s * 1e6), v = Float64Array.of(s);
      const frame = { channel: "a", seq0: (s - 5) / 15, t, v };
      bus.publish(feedSubject("m", "a"), encodeFrame(frame, { id: `f${s}`, src: "t" }));
    }
    await bus.flush();
    time.advance(1000);
    await bus.flush();
  }
  const seconds = bars.filter((b) => b.bar === "1s").map((b) => (b.t - m0) / 1e6);
  const minutes = bars.filter((b) => b.bar === "1m").map((b) => [(b.t - m0) / 1e6, b.count]);
  assert.equal(seconds, Array.from({ length: 12 }, (_, k) => 5 + 15 * k));
  assert.equal(minutes, [[0, 4], [60, 4], [120, 4]]);
  // The first one-second bar is ticked (nothing said yet that they are one sample each); the
  // last two bars, of a channel gone quiet, close with the minute's tick.
  const ticks: number[] = [];
  for await (const r of journal.read("bars/a")) {
    const rec = decodeInputRecord(r.data);
    if (rec.kind === "tick") ticks.push((decodeEnvelope(rec.payload).ts - m0) / 1e6);
  }
  assert.equal(ticks, [7, 181]);
  await h.stop();
});

test("a tick goes to an idle, running instance once it has waited the quiet its kind names, at the event time it names: not to one with nothing open, inputs waiting, or stopped; nor to a kind without tickEvent", () => {
  const tally = new HostMetrics({ host: "h" }).tally("bars");
  /** A slot whose instance holds one sample at `atUs` (none when undefined). */
  const slot = (def: AnyActorDefinition, key: string, atUs?: number) => {
    const s = newSlot(def, key, tally);
    s.inst = ActorInstance.create(def, key, def.defaultConfig);
    if (atUs !== undefined) {
      const frame = { channel: key, seq0: 0, t: Float64Array.of(atUs), v: Float64Array.of(1) };
      def.kernel.step(s.inst.kernelState, frame);
    }
    return s;
  };
  // a's 1 s bar (T0) is due at T0 + 2 s, d's (T0 + 4 s) at T0 + 6 s: each after 2 s of quiet.
  const idle = slot(barsActor, "a", T0_US), later = slot(barsActor, "d", T0_US + 4.5e6);
  const busy = slot(barsActor, "b", T0_US), stopped = slot(barsActor, "c", T0_US);
  const fresh = slot(barsActor, "e");
  const stats = slot(statsActor, "a", T0_US);
  busy.mailbox.push({
    record: { kind: "tick", srcPos: 0, subject: "x", payload: new Uint8Array() },
    bytes: new Uint8Array(),
    decoded: undefined,
    arrivedMs: 0,
  });
  stopped.status = "stopped";
  // The host's clock is far ahead of the data's: the ticks' times are the data's.
  const time = virtualTime(T0_US / 1000 + 3_600_000);
  const got: Array<[string, number]> = [];
  const ticker = new Ticker({
    hostId: "h",
    timers: time.timers,
    now: time.now,
    slots: () => [idle, later, busy, stopped, fresh, stats],
    enqueue: (s, item) => {
      assert.is(item.record.kind, "tick");
      got.push([s.stream, decodeEnvelope(decodeInputRecord(item.bytes as Uint8Array).payload).ts]);
    },
  });
  assert.is(ticker.tick(), 0, "first seen waiting");
  ticker.start();
  time.advance(1500);
  assert.equal(got, [], "quiet for 1 s");
  time.advance(1000);
  assert.equal(got, [["bars/a", T0_US + 2e6], ["bars/d", T0_US + 6e6]]);
  ticker.stop();
  time.advance(5000);
  assert.is(got.length, 2, "no tick after stop()");
});

test("an instance whose tick is not due yet is passed over until its position moves: lookAfterMs says until when, Infinity when nothing is due; a moved instance is read again and ticked on its new due", () => {
  const tally = new HostMetrics({ host: "h" }).tally("bars");
  let reads = 0;
  const def: AnyActorDefinition = {
    ...barsActor,
    tickDue: (state) => (reads++, barsActor.tickDue!(state)),
  } as AnyActorDefinition;
  const s = newSlot(def, "a", tally);
  const inst = ActorInstance.create(def, "a", def.defaultConfig);
  s.inst = inst;
  const sample = (atUs: number) => {
    const frame = { channel: "a", seq0: 0, t: Float64Array.of(atUs), v: Float64Array.of(1) };
    def.kernel.step(inst.kernelState, frame);
    inst.skip(inst.pos + 1, 0);
  };
  const time = virtualTime(T0_US / 1000 + 3_600_000);
  const got: number[] = [];
  const ticker = new Ticker({
    hostId: "h",
    timers: time.timers,
    now: time.now,
    slots: () => [s],
    enqueue: (_s, item) => {
      got.push(decodeEnvelope(decodeInputRecord(item.bytes as Uint8Array).payload).ts);
      inst.skip(inst.pos + 1, 0); // applied: its position moves
    },
  });
  ticker.tick();
  assert.is(reads, 1);
  assert.is(inst.lookAfterMs, Infinity, "an empty bar waits for no tick");
  sample(T0_US);
  assert.is(inst.lookAfterMs, 0, "a position that moves clears it");
  const seen = time.now();
  ticker.tick();
  assert.is(reads, 2);
  assert.is(inst.lookAfterMs, seen + 2000 - 1, "due once quiet for a bar and the grace (2 s)");
  ticker.start();
  time.advance(1000);
  assert.equal([reads, got], [2, []], "passed over: not read, not ticked");
  // The bar of T0 closed; the next one open with two samples (one of one sample each would be
  // closed by the next sample, not ticked).
  sample(T0_US + 1.2e6);
  sample(T0_US + 1.5e6);
  time.advance(1000);
  assert.is(reads, 3, "read again once moved");
  time.advance(1000);
  assert.equal([reads, got], [3, []], "quiet for 1 s since the move was seen");
  time.advance(1000);
  assert.equal(got, [T0_US + 3e6], "its new bar's tick, on time");
  ticker.stop();
});

test("a period's look goes in slices: at most TICKS_PER_SLICE_MAX ticks sent, or LOOKS_PER_SLICE_MAX instances looked at, in each timer's turn; every due instance gets its tick once", () => {
  const tally = new HostMetrics({ host: "h" }).tally("bars");
  const due = TICKS_PER_SLICE_MAX * 2 + 17;
  const quiet = LOOKS_PER_SLICE_MAX + 3;
  const all = Array.from({ length: due + quiet }, (_, i) => {
    const key = `c${i}`;
    const s = newSlot(barsActor, key, tally);
    s.inst = ActorInstance.create(barsActor, key, barsActor.defaultConfig);
    if (i < due) {
      const frame = { channel: key, seq0: 0, t: Float64Array.of(T0_US), v: Float64Array.of(1) };
      barsActor.kernel.step(s.inst.kernelState as never, frame);
    }
    return s;
  });
  const time = virtualTime(T0_US / 1000 + 3_600_000);
  // Each timer's turn counted: the ticks sent in one turn are one slice.
  let turn = 0;
  const timers: HostTimers = {
    setTimeout: (fn, ms) => time.timers.setTimeout(() => (turn++, fn()), ms),
    clearTimeout: (h) => time.timers.clearTimeout(h),
  };
  const perTurn = new Map<number, number>();
  const ticked = new Set<string>();
  const twice: string[] = [];
  const ticker = new Ticker({
    hostId: "h",
    timers,
    now: time.now,
    slots: () => all,
    // As the host's: the tick waits in the instance's mailbox (here never applied), so a later
    // look leaves the instance be.
    enqueue: (s, item) => {
      s.mailbox.push(item);
      if (ticked.has(s.stream)) twice.push(s.stream);
      ticked.add(s.stream);
      perTurn.set(turn, (perTurn.get(turn) ?? 0) + 1);
    },
  });
  ticker.start();
  time.advance(1000); // first seen waiting
  const turnsToLook = turn;
  time.advance(3000); // due
  ticker.stop();
  assert.is(ticked.size, due);
  assert.equal(twice, [], "no instance ticked twice");
  assert.equal([...perTurn.values()], [TICKS_PER_SLICE_MAX, TICKS_PER_SLICE_MAX, 17]);
  // The first look went over every instance in slices of LOOKS_PER_SLICE_MAX at most.
  assert.ok(turnsToLook >= Math.ceil((due + quiet) / LOOKS_PER_SLICE_MAX), `${turnsToLook}`);
});

test("a tick that fails its instance (torn down under the look) or a kind whose tickDue throws ends neither the look nor the ticking: the others get their ticks, the failure is told", () => {
  const tally = new HostMetrics({ host: "h" }).tally("bars");
  const slot = (key: string) => {
    const s = newSlot(barsActor, key, tally);
    s.inst = ActorInstance.create(barsActor, key, barsActor.defaultConfig);
    const frame = { channel: key, seq0: 0, t: Float64Array.of(T0_US), v: Float64Array.of(1) };
    barsActor.kernel.step(s.inst.kernelState as never, frame);
    return s;
  };
  const torn = slot("a"), fine = slot("b");
  const throwing = newSlot(
    {
      ...barsActor,
      tickDue: () => {
        throw new Error("state unreadable");
      },
    } as AnyActorDefinition,
    "c",
    tally,
  );
  throwing.inst = ActorInstance.create(barsActor, "c", barsActor.defaultConfig);
  const time = virtualTime(T0_US / 1000 + 3_600_000);
  const got: string[] = [];
  const failed: string[] = [];
  const ticker = new Ticker({
    hostId: "h",
    timers: time.timers,
    now: time.now,
    slots: () => [torn, throwing, fine],
    enqueue: (s) => {
      got.push(s.stream);
      // As a host's mailbox does when applying the tick fails the instance.
      if (s === torn) s.inst = undefined;
    },
    log: (line) => failed.push(line),
  });
  ticker.start();
  time.advance(1000); // first seen waiting
  time.advance(3000); // due
  // b's bar stays open here (nothing applies the tick), so b is ticked again each period.
  assert.equal(got.slice(0, 2), ["bars/a", "bars/b"]);
  assert.is(got.filter((g) => g === "bars/a").length, 1, "a torn-down instance gets no tick");
  assert.ok(failed.length >= 2, failed.join("; "));
  assert.ok(
    failed.every((f) =>
      f.startsWith("bars/c: its tick could not be made: Error: state unreadable")
    ),
    failed.join("; "),
  );
  const looks = failed.length;
  time.advance(1000);
  assert.is(failed.length, looks + 1, "ticking goes on after a failed look");
  ticker.stop();
});

test.run();
