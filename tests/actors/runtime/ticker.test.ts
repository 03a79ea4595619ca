/**
 * The host's clock ticks (ticker.ts): journaled per instance of a time-driven kind, on the host's
 * timers and clock (virtual here, as in the simulator), so a quiet channel's bar closes; replaying
 * the journal gives the same state.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { barsActor } from "../../../actors/bars/mod.ts";
import { statsActor } from "../../../actors/stats/mod.ts";
import {
  decodeInputRecord,
  Host,
  type HostTimers,
  InProcessBus,
  type Journal,
  MemoryJournal,
  MemorySnapshotStore,
} from "../../../actors/runtime/mod.ts";
import { ActorInstance } from "../../../actors/runtime/actor_instance.ts";
import { HostMetrics } from "../../../actors/runtime/host_metrics.ts";
import { newSlot } from "../../../actors/runtime/_slot.ts";
import { Ticker } from "../../../actors/runtime/ticker.ts";
import type { AnyActorDefinition } from "../../../protocol/mod.ts";
import { decodeEnvelope, encodeFrame, type Envelope, feedSubject } from "../../../protocol/mod.ts";

const test = suite("ticker");

const T0_US = 1_700_000_000_000_000;

/** Timers on a clock that moves only when told. */
function virtualTime(startMs: number) {
  let now = startMs;
  let seq = 0;
  const due = new Map<number, { at: number; fn: () => void }>();
  const timers: HostTimers = {
    setTimeout: (fn, ms) => {
      due.set(++seq, { at: now + ms, fn });
      return seq;
    },
    clearTimeout: (h) => void due.delete(h as number),
  };
  return {
    timers,
    now: () => now,
    /** Moves the clock on by `ms`, running what falls due, in time order. */
    advance(ms: number) {
      const end = now + ms;
      for (;;) {
        const next = [...due.entries()].filter(([, d]) => d.at <= end)
          .sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
        if (!next) break;
        due.delete(next[0]);
        now = next[1].at;
        next[1].fn();
      }
      now = end;
    },
  };
}

function host(bus: InProcessBus, journal: Journal, time: ReturnType<typeof virtualTime>) {
  return new Host({
    hostId: "h",
    bus,
    actors: [barsActor, statsActor],
    config: { bars: { bar_sizes: ["1s"] } },
    journal,
    snapshots: new MemorySnapshotStore(),
    timers: time.timers,
    now: time.now,
    log: () => {},
  });
}

async function kinds(journal: Journal, stream: string): Promise<string[]> {
  const out: string[] = [];
  for await (const r of journal.read(stream)) out.push(decodeInputRecord(r.data).kind);
  return out;
}

test("the host ticks bars instances about every second on its own clock: a quiet channel's bar closes once, past its grace; stats gets no ticks; replay gives the same state", async () => {
  const bus = new InProcessBus();
  const journal = new MemoryJournal();
  const time = virtualTime(T0_US / 1000 + 500);
  const bars: Envelope[] = [];
  bus.subscribe("troupe.out.bars.>", (m) => bars.push(decodeEnvelope(m.data)));
  const h = host(bus, journal, time);
  await h.start();
  const t = Float64Array.from({ length: 10 }, (_, i) => T0_US + i * 90_000);
  const v = Float64Array.from({ length: 10 }, (_, i) => 50 + (i % 3));
  bus.publish(
    feedSubject("m", "a"),
    encodeFrame({ channel: "a", seq0: 0, t, v }, { id: "f1", src: "t" }),
  );
  await bus.flush();
  time.advance(1000); // T0 + 1.5 s: the 1 s bar ended at T0 + 1 s, within its 1 s grace
  await bus.flush();
  assert.is(bars.length, 0);
  time.advance(1000); // T0 + 2.5 s: past the grace
  await bus.flush();
  assert.is(bars.length, 1);
  const bar = bars[0]!.body as Record<string, number>;
  assert.equal([bar.open, bar.high, bar.low, bar.close], [50, 52, 50, 50]);
  time.advance(5000);
  await bus.flush();
  assert.is(bars.length, 1, "a closed bar closes once");
  const recorded = await kinds(journal, "bars/a");
  assert.equal(recorded.slice(0, 2), ["init", "frame"]);
  assert.is(recorded.filter((k) => k === "tick").length, 7);
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

test("a tick goes to each running, idle instance of a time-driven kind: not one with inputs waiting, a stopped one or a kind without tickEvent", () => {
  const tally = new HostMetrics({ host: "h" }).tally("bars");
  const slot = (def: AnyActorDefinition, key: string) => {
    const s = newSlot(def, key, tally);
    s.inst = ActorInstance.create(def, key, def.defaultConfig);
    return s;
  };
  const idle = slot(barsActor, "a"), busy = slot(barsActor, "b"), stopped = slot(barsActor, "c");
  const stats = slot(statsActor, "a");
  busy.mailbox.push({
    record: { kind: "tick", srcPos: 0, subject: "x", payload: new Uint8Array() },
    bytes: new Uint8Array(),
    decoded: undefined,
    arrivedMs: 0,
  });
  stopped.status = "stopped";
  const time = virtualTime(T0_US / 1000);
  const got: Array<[string, string, number]> = [];
  const ticker = new Ticker({
    hostId: "h",
    timers: time.timers,
    now: time.now,
    slots: () => [idle, busy, stopped, stats],
    enqueue: (s, item) => {
      const env = decodeEnvelope(decodeInputRecord(item.bytes as Uint8Array).payload);
      got.push([s.stream, item.record.kind, env.ts]);
    },
  });
  assert.is(ticker.tick(), 1);
  assert.equal(got, [["bars/a", "tick", T0_US]]);
  ticker.start();
  time.advance(2500);
  assert.equal(got.map((g) => g[2]), [T0_US, T0_US + 1e6, T0_US + 2e6]);
  ticker.stop();
  time.advance(5000);
  assert.is(got.length, 3, "no tick after stop()");
});

test.run();
