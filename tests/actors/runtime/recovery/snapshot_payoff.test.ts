/**
 * Snapshots only where they pay (snapshotter.ts): a periodic round or a stop takes an instance
 * with `min_inputs` inputs since its last snapshot, one with fewer only once its last snapshot is
 * `max_age_ms` old; and a host killed with SIGKILL past such rounds rebuilds every instance
 * exactly, the few inputs no snapshot covers replayed from its journal: their outputs published
 * again after a kill, not after a clean stop.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { statsActor, type StatsState, statsSummary } from "../../../../actors/stats/mod.ts";
import { MemoryJournal, MemorySnapshotStore } from "../../../../actors/runtime/mod.ts";
import { ActorInstance } from "../../../../actors/runtime/instances/actor_instance.ts";
import { HostMetrics } from "../../../../actors/runtime/operations/host_metrics.ts";
import { newSlot, type Slot } from "../../../../actors/runtime/instances/slot.ts";
import { Snapshotter } from "../../../../actors/runtime/recovery/snapshotter.ts";
import { FileJournal } from "../../../../actors/runtime/journal/file_journal.ts";
import { FileSnapshotStore } from "../../../../actors/runtime/snapshots/file_snapshot_store.ts";
import { ensureFeedStream } from "../../../../actors/runtime/edge/jetstream_input.ts";
import {
  decodeEnvelope,
  decodeInputRecord,
  encodeFrame,
  feedSubject,
} from "../../../../protocol/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../../../_support/nats.ts";
import { onlyKinds } from "../../../_support/only_kinds.ts";
import { startTroupe } from "../../../_support/cli.ts";

const test = suite("snapshot_payoff");

/** A running stats slot with `news` inputs since its last snapshot. */
function slotWith(key: string, news: number): Slot {
  const s = newSlot(statsActor, key, new HostMetrics({ host: "h" }).tally("stats"));
  s.inst = ActorInstance.create(statsActor, key, statsActor.defaultConfig);
  s.inst.sinceSnapshot = news;
  return s;
}

function payoffSnapshotter(store: MemorySnapshotStore, at: { now: number }): Snapshotter {
  return new Snapshotter({
    journal: new MemoryJournal(),
    store,
    metrics: new HostMetrics({ host: "h" }),
    log: () => {},
    now: () => at.now,
    closing: () => false,
    minInputs: 5,
    maxAgeMs: 10_000,
  });
}

test("a round takes an instance with min_inputs news, one with fewer once max_age_ms has passed", async () => {
  const store = new MemorySnapshotStore();
  const at = { now: 1_000 };
  const snaps = payoffSnapshotter(store, at);
  const many = slotWith("many", 5), few = slotWith("few", 2);
  const round = (now: number) => {
    at.now = now;
    snaps.captureDue(now, 0);
  };
  snaps.noteNews(many);
  snaps.noteNews(few);
  round(1_000);
  await snaps.flush();
  assert.equal(await store.list(), ["stats/many"]);
  assert.is(few.inst!.sinceSnapshot, 2, "fewer news than min_inputs: not taken");
  round(10_999);
  assert.is(few.inst!.sinceSnapshot, 2, "its age counts from the first round that saw it");
  round(11_000);
  await snaps.flush();
  assert.equal((await store.list()).sort(), ["stats/few", "stats/many"]);
  assert.is(few.inst!.sinceSnapshot, 0);
  assert.is(few.lastSnapMs, 11_000);
});

test("a stop takes only the instances with min_inputs news, whatever the others' age", async () => {
  const store = new MemorySnapshotStore();
  const snaps = payoffSnapshotter(store, { now: 50_000 });
  const slots = [slotWith("a", 7), slotWith("b", 4), slotWith("c", 1), slotWith("d", 0)];
  slots[2]!.lastSnapMs = 39_000; // its last snapshot 11 s old: past max_age_ms, left to a round
  await snaps.saveStopping(slots);
  assert.equal(await store.list(), ["stats/a"]);
  assert.is(slots[1]!.inst!.sinceSnapshot, 4, "b's four inputs stay for the journal to replay");
  assert.is(slots[2]!.inst!.sinceSnapshot, 1);
});

const BATCH = 10;

/** Frame `f` of `channel`: BATCH samples whose values depend on both. */
function frameBytes(channel: string, f: number): Uint8Array {
  const t = new Float64Array(BATCH), v = new Float64Array(BATCH);
  for (let i = 0; i < BATCH; i++) {
    t[i] = 1_700_000_000_000_000 + (f * BATCH + i) * 1000;
    v[i] = Math.sin(f * 7 + i) * (channel.length + 3) + f;
  }
  return encodeFrame({ channel, seq0: f * BATCH, t, v }, { id: `f-${channel}-${f}`, src: "t" });
}

/** The stats state of a fold of the stream's whole journal, from its init record on. */
async function foldJournal(dir: string, stream: string): Promise<Float64Array> {
  const journal = await FileJournal.open(dir, { fsync: "never" });
  try {
    const records: { data: Uint8Array; pos: number }[] = [];
    for await (const rec of journal.read(stream, 0)) records.push(rec);
    const init = decodeInputRecord(records[0]!.data);
    assert.is(init.kind, "init", `${stream} starts with its init record`);
    const config = decodeEnvelope(init.payload).body;
    const inst = ActorInstance.create(statsActor, stream.split("/")[1]!, config as never);
    inst.skip(records[0]!.pos, 0);
    for (const rec of records.slice(1)) inst.apply(decodeInputRecord(rec.data), rec.pos);
    return Float64Array.from(inst.kernelState as StatsState);
  } finally {
    await journal.close();
  }
}

/** Waits until `check` holds, or fails naming `what`. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000) {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The newest stats output body of each channel, as the host publishes them. */
function watchOutputs(nc: NatsConnection): Map<string, { count: number; mean: number }> {
  const last = new Map<string, { count: number; mean: number }>();
  nc.subscribe("troupe.out.stats.*", {
    callback: (_err, m) => {
      const body = decodeEnvelope(m.data).body as { channel: string; count: number; mean: number };
      last.set(body.channel, body);
    },
  });
  return last;
}

if (haveNatsServer("snapshot_payoff")) {
  test("a host killed with SIGKILL after rounds that skipped an instance rebuilds it exactly", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const nc = await connect({ servers: nats.url });
    let host: ReturnType<typeof startTroupe> | undefined;
    try {
      await ensureFeedStream(nc);
      const js = jetstream(nc);
      const configPath = join(dir.path, "host.json");
      writeFileSync(
        configPath,
        JSON.stringify({
          host_id: "payoff",
          nats: nats.url,
          data_dir: join(dir.path, "host"),
          input: "jetstream",
          journal: { kind: "file", fsync: "interval", fsync_interval_ms: 20 },
          snapshots: {
            store: "file", // read here while the host writes: a file a snapshot
            every_inputs: 1_000_000,
            every_ms: 20,
            min_inputs: 4,
            max_age_ms: 2_000,
          },
          actors: onlyKinds({ stats: { every_samples: BATCH } }),
        }),
      );
      const sent = new Map<string, number>([["many", 0], ["few", 0]]);
      const send = async (channel: string, frames: number) => {
        for (let i = 0; i < frames; i++) {
          const f = sent.get(channel)!;
          await js.publish(feedSubject("t", channel), frameBytes(channel, f));
          sent.set(channel, f + 1);
        }
      };
      const outputs = watchOutputs(nc);
      const ids: string[] = [];
      nc.subscribe("troupe.out.stats.*", {
        callback: (_e, m) => void ids.push(decodeEnvelope(m.data).id),
      });
      const applied = (what: string) =>
        until(what, () => [...sent].every(([ch, n]) => outputs.get(ch)?.count === n * BATCH));
      const snapshots = await FileSnapshotStore.open(join(dir.path, "host", "snapshots"));
      const countIn = async (stream: string) => {
        const snap = await snapshots.load(stream);
        return snap ? statsSummary(statsActor.kernel.load(snap.kernel) as StatsState).count : 0;
      };

      host = startTroupe(["run", "--config", configPath]);
      await host.waitFor("troupe run: host payoff running");
      await send("many", 4);
      await send("few", 1);
      await applied("the first frames");
      const fewSeen = Date.now();
      await until("the snapshot of stats/many", async () => (await countIn("stats/many")) > 0);
      assert.is(await countIn("stats/many"), 4 * BATCH);
      await send("many", 2);
      await applied("two more frames of many");
      assert.is(await countIn("stats/few"), 0, "one input: no snapshot on the rounds so far");
      assert.is(await countIn("stats/many"), 4 * BATCH, "two inputs since its snapshot: none");
      await until("the snapshot of stats/few", async () => (await countIn("stats/few")) > 0);
      // Its age counts from the first round after its input, which the output follows closely.
      assert.ok(Date.now() - fewSeen >= 1_900, `few's snapshot ${Date.now() - fewSeen} ms on`);
      assert.is(await countIn("stats/few"), BATCH);
      await until("many's snapshot by age", async () => (await countIn("stats/many")) > 4 * BATCH);
      assert.is(await countIn("stats/many"), 6 * BATCH);

      // News below min_inputs for both, well within max_age_ms, then a kill: no snapshot covers
      // them.
      await send("many", 1);
      await send("few", 1);
      await applied("the frames before the kill");
      host.signal("SIGKILL");
      await host.exited;
      assert.is(await countIn("stats/many"), 6 * BATCH, "the kill left the old snapshots");
      assert.is(await countIn("stats/few"), BATCH);

      // After a kill, the replayed tail's outputs are published again, with the ids they had.
      const beforeKill = ids.slice(-2);
      ids.length = 0;
      host = startTroupe(["run", "--config", configPath]);
      await host.waitFor("troupe run: host payoff running");
      await until("the tail published again", () => beforeKill.every((id) => ids.includes(id)));
      await send("many", 1);
      await send("few", 1);
      await applied("a frame each after the restart");
      const after = new Map(outputs);
      host.signal("SIGTERM");
      assert.is(await host.exited, 0, host.output());

      // After a clean stop, the tail no snapshot covers is replayed and published no more.
      ids.length = 0;
      host = startTroupe(["run", "--config", configPath]);
      await host.waitFor("troupe run: host payoff running");
      await nc.flush();
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(ids, [], "nothing published again after a clean stop");
      host.signal("SIGTERM");
      assert.is(await host.exited, 0, host.output());
      host = undefined;
      await snapshots.close();

      // The rebuilt instances' outputs are those of a fold of every journaled input, once.
      for (const ch of ["many", "few"]) {
        const full = statsSummary(
          await foldJournal(join(dir.path, "host", "journal"), `stats/${ch}`),
        );
        assert.is(full.count, sent.get(ch)! * BATCH, `every input of ${ch} journaled once`);
        assert.is(after.get(ch)!.count, full.count, `count of ${ch}`);
        assert.is(after.get(ch)!.mean, full.mean, `mean of ${ch}`);
      }
    } finally {
      host?.signal("SIGKILL");
      await host?.exited;
      await nc.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();
