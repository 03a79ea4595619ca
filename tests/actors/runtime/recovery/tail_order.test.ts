/**
 * A host killed with the steps of a team's kind still being tried on their worker thread (their
 * inputs journaled, not yet applied) publishes, once restarted, those inputs' outputs in the
 * order the inputs came, across instances: the order a host that was not killed publishes them
 * in. Two instances of kind "deadly" on real step trials threads; the kill is the journal as it
 * stood the moment the inputs were delivered, recovered by a second host with no snapshot.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { registry } from "../../../_support/deadly_registry.ts";
import { Host } from "../../../../actors/runtime/host/host.ts";
import { StepTrials } from "../../../../actors/runtime/host/step_trials.ts";
import type { InputSource } from "../../../../actors/runtime/edge/input_source.ts";
import { InProcessBus } from "../../../../actors/runtime/transport/in_process_bus.ts";
import { MemoryJournal } from "../../../../actors/runtime/journal/memory_journal.ts";
import { MemorySnapshotStore } from "../../../../actors/runtime/snapshots/memory_snapshot_store.ts";
import {
  type BusMessage,
  decodeEnvelope,
  encodeFrame,
  feedSubject,
} from "../../../../protocol/mod.ts";

const test = suite("recovery: the tail in input order");

/** A frame of `key`, the `n`th of the feed. */
function frame(key: string, n: number): Omit<BusMessage, "headers" | "reply"> {
  const t = Float64Array.of(1_700_000_000_000_000 + n * 1000);
  return {
    subject: feedSubject("t", key),
    data: encodeFrame({ channel: key, seq0: n, t, v: Float64Array.of(n) }, {
      id: `${key}${n}`,
      src: "t",
    }),
  };
}

/** An input the test delivers when it says, at source positions 1..n. */
function heldInput(feed: ReturnType<typeof frame>[]) {
  let deliverAll = () => {};
  const input: InputSource = {
    start(deliver, resumeAfter) {
      deliverAll = () => {
        for (let pos = resumeAfter + 1; pos <= feed.length; pos++) {
          deliver({ ...feed[pos - 1]!, headers: undefined, reply: undefined }, pos);
        }
      };
      return Promise.resolve();
    },
    stop: () => Promise.resolve(),
  };
  return { input, deliverAll: () => deliverAll() };
}

/** The ids of the outputs published on `bus`, in order, as they come. */
function outputIds(bus: InProcessBus): string[] {
  const ids: string[] = [];
  bus.subscribe("troupe.out.>", (m) => void ids.push(decodeEnvelope(m.data).id));
  return ids;
}

/** A copy of `journal` as it holds now, in its append order across streams. */
async function copyOf(journal: MemoryJournal): Promise<MemoryJournal> {
  const copy = new MemoryJournal();
  for await (const rec of journal.readAll()) {
    assert.is(copy.append(rec.stream, rec.data.slice()), rec.pos);
  }
  return copy;
}

/** Step trials threads for kind "deadly", as a host of a team's kinds starts them. */
async function trials(): Promise<StepTrials> {
  return await StepTrials.start({
    kindsModule: new URL("../../../_support/deadly_registry.ts", import.meta.url),
    kinds: ["deadly"],
    deadlineMs: () => 20_000,
    log: () => {},
  });
}

/** Waits, 20 s at most, until `done()`. */
async function until(what: string, done: () => boolean): Promise<void> {
  for (const end = Date.now() + 20_000; !done(); await new Promise((r) => setTimeout(r, 10))) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
  }
}

test("a restart publishes the outputs of inputs journaled, not applied, in their order", async () => {
  // a's last input (a2) comes before b's later ones: recovery must not hold it back past them.
  const feed = [frame("a", 1), frame("b", 1), frame("a", 2), frame("b", 2), frame("b", 3)];
  const first = heldInput(feed);
  const liveBus = new InProcessBus();
  const live = outputIds(liveBus);
  const liveTrials = await trials();
  const journal = new MemoryJournal();
  const killed = new Host({
    hostId: "h",
    bus: liveBus,
    actors: [registry.deadly!],
    journal,
    snapshots: new MemorySnapshotStore(),
    input: first.input,
    stepTrials: liveTrials,
    log: () => {},
  });
  const restartedTrials = await trials();
  let restarted: Host | undefined;
  try {
    await killed.start();
    first.deliverAll();
    // The kill: the journal as it is now, every input in it and none applied yet (their steps
    // are on the worker thread).
    assert.equal(live, [], "no input was applied before the kill");
    const atKill = await copyOf(journal);
    assert.equal(atKill.recordsOf("deadly/a").length + atKill.recordsOf("deadly/b").length, 7);

    // What a host that goes on publishes: each input's output, in the inputs' order.
    await until("the live host's outputs", () => live.length === feed.length);
    assert.equal(live.map((id) => id.split(":")[0]), ["a1", "b1", "a2", "b2", "b3"]);

    const bus = new InProcessBus();
    const recovered = outputIds(bus);
    restarted = new Host({
      hostId: "h",
      bus,
      actors: [registry.deadly!],
      journal: atKill,
      snapshots: new MemorySnapshotStore(),
      input: heldInput(feed).input,
      stepTrials: restartedTrials,
      log: () => {},
    });
    await restarted.start();
    await bus.flush();
    assert.equal(recovered, live, "the restarted host publishes what the live one did, in order");
    for (const key of ["a", "b"]) {
      const state = (host: Host) => host.instance("deadly", key)?.kernelState;
      assert.equal(state(restarted), state(killed), `deadly/${key}'s state`);
    }
  } finally {
    await restarted?.stop();
    await killed.stop();
    await Promise.all([liveTrials.stop(), restartedTrials.stop()]);
  }
});

test.run();
