/**
 * A start that leaves the instances with nothing journaled past their snapshots dormant
 * (Slot.dormant): restored at their first use or by the background pass (warm_up.ts). Each is the
 * same instance a host that never stopped has, an input to one still dormant is applied as that
 * host applies it, and one whose restore throws goes to supervision, never started afresh. After a
 * clean stop that left inputs past their snapshots (their outputs published), those instances
 * start dormant too, the inputs applied as they are restored (deferred_tails.ts).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor, type StatsState } from "../../../../actors/stats/mod.ts";
import {
  Host,
  type HostTimers,
  InProcessBus,
  MemoryJournal,
  MemorySnapshotStore,
} from "../../../../actors/runtime/mod.ts";
import type { AnyActorDefinition } from "../../../../protocol/mod.ts";
import { decodeInputRecord, encodeFrame, feedSubject } from "../../../../protocol/mod.ts";

const test = suite("dormant start");

const CHANNELS = 40;
const channels = Array.from({ length: CHANNELS }, (_, i) => `c${i}`);

function frameBytes(channel: string, f: number): Uint8Array {
  const t = new Float64Array([1_700_000_000_000_000 + f * 15_000_000]);
  const v = new Float64Array([10 + ((f * 7 + channel.length * 3) % 11)]);
  return encodeFrame({ channel, seq0: f, t, v }, { id: `${channel}-${f}`, src: "test" });
}

/** The stats kind, whose loads throw while `fragile.failing` is set. */
const fragile = { failing: false };
const fragileStats: AnyActorDefinition = {
  ...statsActor,
  kernel: {
    ...statsActor.kernel,
    load(bytes: Uint8Array) {
      if (fragile.failing) throw new Error("this state cannot be loaded");
      return statsActor.kernel.load(bytes);
    },
  },
} as AnyActorDefinition;

interface Rig {
  journal: MemoryJournal;
  snapshots: MemorySnapshotStore;
}

/**
 * The runtime's timers, but those of no delay (the background pass's slices) held while `held`
 * is set, and run by `release`: what an input does to a dormant instance is then seen before the
 * pass has had a turn.
 */
class HoldingTimers implements HostTimers {
  held = true;
  readonly #waiting: Array<() => void> = [];
  setTimeout(fn: () => void, ms: number): unknown {
    if (ms === 0 && this.held) return this.#waiting.push(fn);
    return setTimeout(fn, ms);
  }
  clearTimeout(handle: unknown): void {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  }
  release(): void {
    this.held = false;
    for (const fn of this.#waiting.splice(0)) fn();
  }
}

async function start(
  rig: Rig,
  def: AnyActorDefinition = statsActor,
  timers?: HostTimers,
  bus = new InProcessBus(),
  snapshotMinInputs = 1,
) {
  const lines: string[] = [];
  const host = new Host({
    hostId: "h1",
    bus,
    actors: [def],
    journal: rig.journal,
    snapshots: rig.snapshots,
    log: (line) => lines.push(line),
    supervision: { backoffMsBase: 1, backoffMsMax: 2, failuresMax: 2 },
    snapshotMinInputs,
    ...(timers ? { timers } : {}),
  });
  await host.start();
  return { bus, host, lines };
}

async function feed(bus: InProcessBus, frames: number, from = 0): Promise<void> {
  for (let f = from; f < from + frames; f++) {
    for (const c of channels) bus.publish(feedSubject("test", c), frameBytes(c, f));
    await bus.flush();
  }
}

function state(host: Host, channel: string): number[] {
  return Array.from(host.instance("stats", channel)!.kernelState as StatsState);
}

/** The gauge of instances the background pass has not reached yet. */
async function dormantLeft(host: Host): Promise<number> {
  return (await host.metrics.recoveryDormant.get()).values[0]?.value ?? 0;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

test("instances with nothing past their snapshots start dormant and are restored after", async () => {
  const rig = { journal: new MemoryJournal(), snapshots: new MemorySnapshotStore() };
  const a = await start(rig);
  await feed(a.bus, 5);
  const before = channels.map((c) => state(a.host, c));
  await a.host.stop();

  const b = await start(rig);
  assert.is(await dormantLeft(b.host), CHANNELS, "every instance dormant at the start");
  assert.ok(
    b.lines.some((l) => l.includes(`; ${CHANNELS} with nothing past their snapshots`)),
    b.lines.join("\n"),
  );
  assert.equal(
    b.host.instances().map((i) => i.pos),
    a.host.instances().map((i) => i.pos),
    "positions known without a restore",
  );
  await settle();
  assert.is(await dormantLeft(b.host), 0, "the background pass restored them all");
  assert.equal(channels.map((c) => state(b.host, c)), before);
  await b.host.stop();
});

test("the streams a journal lost entirely are restored from their snapshots, after the journal's", async () => {
  const rig = { journal: new MemoryJournal(), snapshots: new MemorySnapshotStore() };
  const a = await start(rig);
  await feed(a.bus, 3);
  const before = channels.map((c) => state(a.host, c));
  const positions = a.host.instances().map((i) => i.pos);
  await a.host.stop();

  // A journal that kept one stream of the forty (a copy of its records), the snapshots all kept.
  const kept = new MemoryJournal();
  for await (const rec of rig.journal.read("stats/c7")) kept.append(rec.stream, rec.data);
  const b = await start({ journal: kept, snapshots: rig.snapshots });
  await settle();
  const recovered = b.host.instances();
  assert.is(recovered.length, CHANNELS, b.lines.join("\n"));
  assert.is(recovered[0]!.stream, "stats/c7", "the journal's stream first");
  assert.equal(channels.map((c) => state(b.host, c)), before);
  assert.equal(channels.map((c) => b.host.instance("stats", c)!.pos), positions);
  await b.host.stop();
});

test("an input to a dormant instance is applied as by a host that never stopped", async () => {
  const rig = { journal: new MemoryJournal(), snapshots: new MemorySnapshotStore() };
  const a = await start(rig);
  await feed(a.bus, 4);
  await a.host.stop();

  const timers = new HoldingTimers();
  const b = await start(rig, statsActor, timers);
  const outputs = { b: [] as string[], c: [] as string[] };
  b.bus.subscribe("troupe.>", (m) => outputs.b.push(`${m.subject} ${m.data.length}`));
  // Before the background pass has had a turn: c0's instance is restored by its input.
  assert.is(await dormantLeft(b.host), CHANNELS);
  const stored = state(a.host, "c0");
  b.bus.publish(feedSubject("test", "c0"), frameBytes("c0", 4));
  await b.bus.flush();
  assert.is(await dormantLeft(b.host), CHANNELS, "the background pass had no turn yet");

  const whole = { journal: new MemoryJournal(), snapshots: new MemorySnapshotStore() };
  const c = await start(whole);
  await feed(c.bus, 4);
  c.bus.subscribe("troupe.>", (m) => outputs.c.push(`${m.subject} ${m.data.length}`));
  c.bus.publish(feedSubject("test", "c0"), frameBytes("c0", 4));
  await c.bus.flush();
  assert.not.equal(state(b.host, "c0"), stored, "the input applied");
  assert.equal(state(b.host, "c0"), state(c.host, "c0"));
  assert.equal(outputs.b, outputs.c, "the same messages");
  timers.release();
  await settle();
  for (const ch of channels) assert.equal(state(b.host, ch), state(c.host, ch), ch);
  await b.host.stop();
  await c.host.stop();
});

test("after a clean stop, inputs past the snapshots are applied as each instance is restored", async () => {
  const rig = { journal: new MemoryJournal(), snapshots: new MemorySnapshotStore() };
  // Snapshots at a stop only where 5 inputs came since the last (as `troupe run` takes them).
  const a = await start(rig, statsActor, undefined, undefined, 5);
  await feed(a.bus, 5); // its stop snapshots every instance
  await a.host.stop();
  const b = await start(rig, statsActor, undefined, undefined, 5);
  await feed(b.bus, 2, 5); // too few for a snapshot at its stop: journaled past them
  const states = channels.map((ch) => state(b.host, ch));
  const positions = b.host.instances().map((i) => [i.pos, i.srcPos]);
  await b.host.stop();

  const timers = new HoldingTimers();
  const bus = new InProcessBus();
  const published: string[] = [];
  bus.subscribe("troupe.>", (m) => published.push(m.subject));
  const c = await start(rig, statsActor, timers, bus, 5);
  assert.is(await dormantLeft(c.host), CHANNELS, "every instance dormant at the start");
  const line = c.lines.find((l) => l.startsWith("recovered "));
  assert.ok(
    line?.includes(" 0 inputs applied") &&
      line.includes(`with the ${CHANNELS * 2} inputs past their snapshots`),
    c.lines.join("\n"),
  );
  assert.equal(c.host.instances().map((i) => [i.pos, i.srcPos]), positions);
  assert.equal((await c.host.metrics.recoveryInputs.get()).values[0]?.value, 0);
  assert.equal(published, [], "nothing published again");

  // c0 restored by its input, before the background pass; the others by the pass.
  const whole = { journal: new MemoryJournal(), snapshots: new MemorySnapshotStore() };
  const d = await start(whole);
  await feed(d.bus, 7);
  const outputs = { c: [] as string[], d: [] as string[] };
  c.bus.subscribe("troupe.>", (m) => outputs.c.push(`${m.subject} ${m.data.length}`));
  d.bus.subscribe("troupe.>", (m) => outputs.d.push(`${m.subject} ${m.data.length}`));
  for (const host of [c, d]) {
    host.bus.publish(feedSubject("test", "c0"), frameBytes("c0", 7));
    await host.bus.flush();
  }
  assert.is(await dormantLeft(c.host), CHANNELS, "the background pass had no turn yet");
  assert.equal(state(c.host, "c0"), state(d.host, "c0"));
  assert.equal(outputs.c, outputs.d, "the same messages");
  timers.release();
  await settle();
  assert.is(await dormantLeft(c.host), 0);
  for (let i = 1; i < CHANNELS; i++) assert.equal(state(c.host, channels[i]!), states[i], `c${i}`);
  await c.host.stop();
  await d.host.stop();
});

test("a clean stop before dormant instances were restored keeps their inputs for the next start", async () => {
  const rig = { journal: new MemoryJournal(), snapshots: new MemorySnapshotStore() };
  const a = await start(rig, statsActor, undefined, undefined, 5);
  await feed(a.bus, 5);
  await a.host.stop();
  const b = await start(rig, statsActor, undefined, undefined, 5);
  await feed(b.bus, 3, 5);
  const states = channels.map((ch) => state(b.host, ch));
  await b.host.stop();
  const c = await start(rig, statsActor, new HoldingTimers(), undefined, 5);
  assert.is(await dormantLeft(c.host), CHANNELS);
  await c.host.stop(); // none restored

  const bus = new InProcessBus();
  const published: string[] = [];
  bus.subscribe("troupe.>", (m) => published.push(m.subject));
  const d = await start(rig, statsActor, undefined, bus, 5);
  assert.ok(
    d.lines.some((l) => l.includes(`with the ${CHANNELS * 3} inputs past their snapshots`)),
    d.lines.join("\n"),
  );
  assert.equal(published, [], "their outputs went out once, before the first stop");
  await settle();
  assert.equal(channels.map((ch) => state(d.host, ch)), states);
  await d.host.stop();
});

test("a dormant instance whose restore throws goes to supervision, not a fresh start", async () => {
  const rig = { journal: new MemoryJournal(), snapshots: new MemorySnapshotStore() };
  fragile.failing = false;
  const a = await start(rig, fragileStats);
  await feed(a.bus, 3);
  await a.host.stop();
  try {
    fragile.failing = true;
    const timers = new HoldingTimers();
    const b = await start(rig, fragileStats, timers);
    b.bus.publish(feedSubject("test", "c0"), frameBytes("c0", 3));
    await b.bus.flush();
    // Its restore fails, then its rebuild after the backoff, and supervision stops it.
    const c0Now = () => b.host.instances().find((i) => i.stream === "stats/c0")!;
    for (let waited = 0; c0Now().status !== "stopped" && waited < 5000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.is(await dormantLeft(b.host), CHANNELS, "c0's input restored it, not the pass");
    timers.release();
    const c0 = c0Now();
    assert.is(c0.status, "stopped", JSON.stringify(c0));
    assert.ok(b.lines.some((l) => l.includes("this state cannot be loaded")), b.lines.join("\n"));
    let inits = 0;
    for await (const rec of rig.journal.read("stats/c0")) {
      if (decodeInputRecord(rec.data).kind === "init") inits++;
    }
    assert.is(inits, 1, "no instance started afresh over its journal");
    await b.host.stop();
  } finally {
    fragile.failing = false;
  }
});

test.run();
