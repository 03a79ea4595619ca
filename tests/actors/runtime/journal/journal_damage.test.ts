/**
 * A journal damaged in the middle, against real `troupe run` processes and a real nats-server:
 * the records after the damage are kept; with JetStream input what the damage took is read again
 * from the stream, each input once and in order (the records after the damage voided and applied
 * again after it); with core input, which cannot give anything back, the host
 * refuses to start, naming what was lost, until told `--accept-journal-loss`.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { statsActor, type StatsState, statsSummary } from "../../../../actors/stats/mod.ts";
import { ActorInstance } from "../../../../actors/runtime/instances/actor_instance.ts";
import { FileJournal } from "../../../../actors/runtime/journal/file_journal.ts";
import { PackedSnapshotStore } from "../../../../actors/runtime/snapshots/mod.ts";
import { type JournalRecord, VoidedPositions } from "../../../../actors/runtime/mod.ts";
import { ensureFeedStream } from "../../../../actors/runtime/edge/jetstream_input.ts";
import {
  decodeEnvelope,
  decodeInputRecord,
  encodeFrame,
  feedSubject,
} from "../../../../protocol/mod.ts";
import { Prng } from "../../../../sim/prng/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../../../_support/nats.ts";
import { onlyKinds } from "../../../_support/only_kinds.ts";
import { runTroupe, startTroupe } from "../../../_support/cli.ts";
import { segmentsHold } from "../../../_support/journal_files.ts";

const test = suite("journal_damage");

const CHANNELS = ["d0", "d1", "d2"];
const BATCH = 20;
const HALF = 60; // frames per channel before the kill
const FRAMES = 2 * HALF;

function frameBytes(channel: string, f: number, rng: Prng): Uint8Array {
  const t = new Float64Array(BATCH), v = new Float64Array(BATCH);
  for (let i = 0; i < BATCH; i++) {
    t[i] = 1_700_000_000_000_000 + (f * BATCH + i) * 1000 + rng.int(500);
    v[i] = rng.normal();
  }
  return encodeFrame({ channel, seq0: f * BATCH, t, v }, { id: `${channel}-${f}`, src: "test" });
}

function hostConfig(dir: string, nats: string, input: "core" | "jetstream"): string {
  const path = join(dir, "host.json");
  writeFileSync(
    path,
    JSON.stringify({
      host_id: "damage",
      nats,
      data_dir: join(dir, "host"),
      input,
      journal: { kind: "file", fsync: "interval", fsync_interval_ms: 20 },
      // Few snapshots before the kill (a round still takes each instance's first one: the damage
      // goes past it, where recovery needs the records), and one of every instance at the stop,
      // whatever its inputs: the final state checked.
      snapshots: { every_inputs: 1_000_000, every_ms: 3_600_000, min_inputs: 1 },
      actors: onlyKinds({ stats: { every_samples: HALF * BATCH } }),
    }),
  );
  return path;
}

/** Resolves once every channel's running count reached `samples` (its output says so). */
function countsReached(nc: NatsConnection, samples: number): Promise<void> & { cancel(): void } {
  const done = new Set<string>();
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r)) as Promise<void> & { cancel(): void };
  const sub = nc.subscribe("troupe.out.stats.*", {
    callback: (_err, m) => {
      const body = decodeEnvelope(m.data).body as { channel: string; count: number };
      if (body.count === samples) done.add(body.channel);
      if (done.size === CHANNELS.length) {
        sub.unsubscribe();
        resolve();
      }
    },
  });
  promise.cancel = () => sub.unsubscribe();
  return promise;
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits until the journal's files hold each channel's last frame of the first half: the host
 * writes every 20 ms, but a loaded machine can hold it back past any fixed wait, and a kill -9
 * before the write loses the tail (with core input, for good).
 */
async function writtenOut(dir: string): Promise<void> {
  const journalDir = join(dir, "host", "journal");
  const deadline = Date.now() + 30_000;
  while (!CHANNELS.every((ch) => segmentsHold(journalDir, `${ch}-${HALF - 1}`))) {
    if (Date.now() > deadline) throw new Error(`the first half not written out in ${journalDir}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Overwrites 16 bytes of the data of the first `stats` record that recovery needs (past its
 * stream's snapshot: a periodic round may have taken one before the kill) and ends past halfway
 * into the journal's only segment, or of the first it needs anywhere when none past halfway is
 * (which other records lie there depends on how the host batched its writes); returns its path
 * and bytes.
 */
async function damageJournal(
  dir: string,
  seed: number,
): Promise<{ path: string; bytes: Uint8Array }> {
  const journalDir = join(dir, "host", "journal");
  const segs = readdirSync(journalDir).filter((f) => f.endsWith(".seg"));
  assert.is(segs.length, 1, `one segment, got ${segs.join(", ")}`);
  const snapshotted = new Map<string, number>();
  const store = await PackedSnapshotStore.open(join(dir, "host", "snapshots"));
  try {
    for (const ch of CHANNELS) {
      snapshotted.set(`stats/${ch}`, (await store.load(`stats/${ch}`))?.pos ?? 0);
    }
  } finally {
    await store.close();
  }
  const path = join(journalDir, segs[0]!);
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // A segment's 8-byte header, then records: length (u32, of what follows the first 8 bytes),
  // CRC (u32), the stream's name length (u16) and name, the position (u64), the data.
  const records: Array<{ name: string; pos: number; dataAt: number; dataEnd: number }> = [];
  const last = new Map<string, number>();
  for (let at = 8, total = 0; at + 10 <= bytes.length; at += total) {
    total = 8 + view.getUint32(at, true);
    const nameLength = view.getUint16(at + 8, true);
    const name = bytes.subarray(at + 10, at + 10 + nameLength).toString();
    const pos = Number(view.getBigUint64(at + 10 + nameLength, true));
    records.push({ name, pos, dataAt: at + 10 + nameLength + 8, dataEnd: at + total });
    last.set(name, pos);
  }
  // Needed, and with a record of its stream after it.
  const needed = records.filter((r) =>
    r.name.startsWith("stats/") && r.pos > snapshotted.get(r.name)! && r.pos < last.get(r.name)!
  );
  const first = needed.find((r) => r.dataEnd > bytes.length / 2) ?? needed[0];
  assert.ok(first !== undefined, `a stats record past its snapshot in ${path}`);
  const { dataAt, dataEnd } = first;
  assert.ok(dataEnd - dataAt >= 32, `a stats record of data in ${path}`);
  const rng = new Prng(seed);
  const from = dataAt + Math.floor((dataEnd - dataAt - 16) / 2);
  for (let i = 0; i < 16; i++) bytes[from + i] = (bytes[from + i]! ^ (1 + rng.int(255))) & 0xff;
  writeFileSync(path, bytes);
  return { path, bytes };
}

/** Each stream's journaled frames (source positions, in order) and its final replayed count. */
async function readJournal(dir: string) {
  const journal = await FileJournal.open(join(dir, "host", "journal"), { fsync: "never" });
  const out = new Map<string, { srcPos: number[]; ids: string[]; count: number }>();
  try {
    for (const ch of CHANNELS) {
      let inst: ActorInstance | undefined;
      const srcPos: number[] = [], ids: string[] = [];
      const records: JournalRecord[] = [];
      for await (const rec of journal.read(`stats/${ch}`)) {
        records.push({ ...rec, data: rec.data.slice() });
      }
      // What a rebuild voided is consumed, never applied (see recovery.ts).
      const voided = VoidedPositions.of(records);
      for (const rec of records) {
        if (voided.has(rec.pos)) continue;
        const r = decodeInputRecord(rec.data);
        if (r.kind === "init") {
          inst = ActorInstance.create(statsActor, ch, decodeEnvelope(r.payload).body);
          inst.skip(rec.pos, 0);
          continue;
        }
        if (r.kind !== "frame") continue;
        srcPos.push(r.srcPos);
        ids.push(decodeEnvelope(r.payload).id);
        inst!.apply(r, rec.pos);
      }
      out.set(ch, { srcPos, ids, count: statsSummary(inst!.kernelState as StatsState).count });
    }
    return { streams: out, damage: journal.damage() };
  } finally {
    await journal.close();
  }
}

if (haveNatsServer("journal_damage")) {
  test("JetStream input: a journal damaged mid-segment keeps every record after the damage and reads what it lost again from the stream, once", async () => {
    const seed = 21;
    const nats = await startTestNats();
    const dir = tempDir();
    const nc = await connect({ servers: nats.url });
    let host: ReturnType<typeof startTroupe> | undefined;
    try {
      await ensureFeedStream(nc);
      const js = jetstream(nc);
      const config = hostConfig(dir.path, nats.url, "jetstream");
      const rng = new Prng(seed);
      const seqs = new Map<string, number[]>(CHANNELS.map((c) => [c, []]));
      const publish = async (from: number, to: number) => {
        for (let f = from; f < to; f++) {
          for (const ch of CHANNELS) {
            const ack = await js.publish(feedSubject("test", ch), frameBytes(ch, f, rng));
            seqs.get(ch)!.push(ack.seq);
          }
        }
      };
      host = startTroupe(["run", "--config", config]);
      await host.waitFor("troupe run: host damage running");
      const half = countsReached(nc, HALF * BATCH);
      await publish(0, HALF);
      await within(half, 30_000, "the first half applied");
      await writtenOut(dir.path);
      host.signal("SIGKILL");
      await host.exited;
      const damaged = await damageJournal(dir.path, seed);

      host = startTroupe(["run", "--config", config]);
      await host.waitFor("troupe run: host damage running");
      const out = host.output();
      assert.match(out, new RegExp(`journal: damaged: \\d+ bytes at ${damaged.path}:\\d+`));
      assert.match(
        out,
        /journal lost stats\/d\d: input.* reading them again from the input/,
        `the host said:\n${out}`,
      );
      const all = countsReached(nc, FRAMES * BATCH);
      await publish(HALF, FRAMES);
      await within(all, 30_000, `every sample applied once; host said:\n${host.output()}`);
      host.signal("SIGTERM");
      assert.is(await host.exited, 0, host.output());
      host = undefined;

      // The damaged bytes are still there, and every record after them was kept.
      const now = readFileSync(damaged.path);
      assert.equal(now.subarray(0, damaged.bytes.length), damaged.bytes);
      const { streams, damage } = await readJournal(dir.path);
      assert.is(damage.length, 1, `seed ${seed}`);
      const snapshots = await PackedSnapshotStore.open(join(dir.path, "host", "snapshots"));
      try {
        for (const ch of CHANNELS) {
          const s = streams.get(ch)!;
          // Every acknowledged input journaled and readable exactly once, in the order it came.
          assert.equal(s.srcPos, seqs.get(ch), `inputs of ${ch}`);
          assert.is(new Set(s.ids).size, s.ids.length, `no id twice in ${ch}`);
          assert.is(s.count, FRAMES * BATCH + 0, `samples of ${ch} in a replay of its journal`);
          const snap = await snapshots.load(`stats/${ch}`);
          assert.is(statsSummary(statsActor.kernel.load(snap!.kernel)).count, FRAMES * BATCH);
        }
      } finally {
        await snapshots.close();
      }
    } finally {
      host?.signal("SIGKILL");
      await host?.exited;
      await nc.close();
      await nats.cleanup();
      dir.remove();
    }
  });

  test("core input: a host over a journal that lost inputs refuses to start, naming them, until told --accept-journal-loss", async () => {
    const seed = 22;
    const nats = await startTestNats();
    const dir = tempDir();
    const nc = await connect({ servers: nats.url });
    let host: ReturnType<typeof startTroupe> | undefined;
    try {
      const config = hostConfig(dir.path, nats.url, "core");
      const rng = new Prng(seed);
      host = startTroupe(["run", "--config", config]);
      await host.waitFor("troupe run: host damage running");
      const half = countsReached(nc, HALF * BATCH);
      for (let f = 0; f < HALF; f++) {
        for (const ch of CHANNELS) nc.publish(feedSubject("test", ch), frameBytes(ch, f, rng));
      }
      await nc.flush();
      await within(half, 30_000, "the first half applied");
      await writtenOut(dir.path);
      host.signal("SIGKILL");
      await host.exited;
      host = undefined;
      const damaged = await damageJournal(dir.path, seed);

      const t0 = Date.now();
      const refused = await runTroupe(["run", "--config", config], { timeoutMs: 20_000 });
      assert.is(refused.code, 1, refused.stderr);
      assert.ok(Date.now() - t0 < 15_000, `exited after ${Date.now() - t0} ms`);
      assert.match(refused.stderr, /Cannot start: the journal lost 1 run of inputs/);
      assert.match(refused.stderr, /stats\/d\d: input/);
      assert.match(refused.stderr, /the input keeps no positions/);
      assert.match(refused.stderr, /--accept-journal-loss/);
      assert.equal(readFileSync(damaged.path), Buffer.from(damaged.bytes), "nothing changed");

      host = startTroupe(["run", "--config", config, "--accept-journal-loss"]);
      await host.waitFor("troupe run: host damage running");
      assert.match(host.output(), /journal lost stats\/d\d: input.* accepted as lost/);
      host.signal("SIGTERM");
      assert.is(await host.exited, 0, host.output());
      host = undefined;
      const { streams, damage } = await readJournal(dir.path);
      assert.is(damage.length, 1);
      const kept = CHANNELS.map((ch) => streams.get(ch)!.srcPos.length);
      const lost = 3 * HALF - kept.reduce((a, b) => a + b, 0);
      assert.ok(lost >= 1 && lost <= 2, `${lost} frames lost to 16 bytes (kept ${kept})`);
      // Each stream's frames after the damage are there: its last frame is its 60th.
      for (const ch of CHANNELS) {
        assert.is(streams.get(ch)!.ids.at(-1), `${ch}-${HALF - 1}`);
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
