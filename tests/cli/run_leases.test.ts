/**
 * `troupe run --partitions auto` against real processes and a real nats-server: three hosts share
 * eight partitions by lease while a feed runs; one host at a time is killed (SIGKILL) and started
 * again, and its partitions are taken over by the others. At the end every frame the feed stream
 * holds is in its channel's journal exactly once: none lost across takeovers, none applied twice.
 * A short lease TTL keeps the wall time down.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { decodeInputRecord, FEED_STREAM, JetStreamJournal } from "../../actors/runtime/mod.ts";
import { type RunningTroupe, runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";

const test = suite("troupe run --partitions auto");

const TTL_MS = 3000;
const KILLS = 5;
const SEED = 20261123;

/** A seeded PRNG (mulberry32): which host dies in which round. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (haveNatsServer("troupe run --partitions auto")) {
  test(`SIGKILL of a leased host under load, ${KILLS} times: every frame journaled exactly once`, async () => {
    const nats = await startTestNats();
    const dir = tempDir("troupe-leases-");
    const hosts = new Map<string, RunningTroupe>();
    const start = (id: string) => {
      const file = join(dir.path, `${id}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          host_id: id,
          nats: nats.url,
          input: "jetstream",
          journal: { kind: "jetstream" },
          snapshots: { store: "kv", every_inputs: 50 },
          actors: {
            stats: {},
            anomaly: { enabled: false },
            collapse: { enabled: false },
            coherence: { enabled: false },
            bars: { enabled: false },
          },
          partitions: { count: 8, owned: "auto", lease_ttl_ms: TTL_MS },
        }),
      );
      const h = startTroupe(["run", "--config", file, "--data-dir", join(dir.path, id)]);
      hosts.set(id, h);
      return h;
    };
    const random = prng(SEED);
    const gone: RunningTroupe[] = [];
    try {
      for (const id of ["h1", "h2", "h3"]) await start(id).waitFor("partitions auto", 30_000);
      const inject = runTroupe([
        "inject",
        "--nats",
        nats.url,
        "--feed",
        "metrics",
        "--channels",
        "12",
        "--rate",
        "1200",
        "--batch",
        "10",
        "--duration",
        String(KILLS * 3 + 2),
      ], { timeoutMs: 120_000 });
      for (let round = 0; round < KILLS; round++) {
        await sleep(1000);
        const id = ["h1", "h2", "h3"][Math.floor(random() * 3)]!;
        const victim = hosts.get(id)!;
        victim.signal("SIGKILL");
        await victim.exited;
        gone.push(victim);
        // The survivors take its partitions once its leases expire.
        await sleep(TTL_MS + 500);
        await start(id).waitFor("partitions auto", 30_000);
      }
      const injected = await inject;
      assert.is(injected.code, 0, `seed ${SEED}: inject: ${injected.stderr}`);
      await sleep(3000); // the last frames reach their owners
      for (const h of hosts.values()) h.signal("SIGTERM");
      for (const h of hosts.values()) await h.exited;
      const outputs = [...gone, ...hosts.values()].map((h) => h.output()).join("");
      if (process.env.TROUPE_LEASES_LOG) writeFileSync(process.env.TROUPE_LEASES_LOG, outputs);
      const taken = outputs.match(/: taken \(epoch/g)?.length ?? 0;
      assert.ok(taken >= KILLS, `seed ${SEED}: ${taken} takeovers in ${KILLS} kills`);
      assert.not.match(outputs, "journal lost", `seed ${SEED}: a journal has a hole`);
      const nc = await connect({ servers: nats.url });
      try {
        const fed = await feedSequences(nc);
        const journal = await JetStreamJournal.open(nc);
        let frames = 0;
        for (const [channel, seqs] of fed) {
          // Records a snapshot covers may be compacted away: the journal is checked from its
          // first record kept, whose positions run on without a hole.
          const journaled: number[] = [];
          let pos = 0;
          for await (const rec of journal.read(`stats/${channel}`)) {
            if (pos > 0) assert.is(rec.pos, pos + 1, `seed ${SEED}: ${channel}: a hole`);
            pos = rec.pos;
            const r = decodeInputRecord(rec.data);
            if (r.kind === "frame") journaled.push(r.srcPos);
          }
          const doubled = journaled.filter((s, i) => journaled.indexOf(s) !== i);
          assert.equal(doubled, [], `seed ${SEED}: ${channel}: frames journaled twice`);
          const have = new Set(journaled);
          const from = journaled[0] ?? Infinity;
          const lost = seqs.filter((s) => s >= from && !have.has(s));
          assert.equal(
            lost,
            [],
            `seed ${SEED}: ${channel}: ${lost.length} of ${seqs.length} frames of the feed never journaled (${
              lost[0]
            }..${lost.at(-1)}; journaled ${from} to ${journaled.at(-1)})`,
          );
          frames += journaled.length;
        }
        assert.ok(frames > 100, `only ${frames} frames journaled`);
        await journal.close();
      } finally {
        await nc.close();
      }
    } finally {
      for (const h of hosts.values()) await h.stop(2000).catch(() => {});
      await nats.cleanup();
      dir.remove();
    }
  });
}

/** The stream sequence of every frame in the feed stream, by channel. */
async function feedSequences(
  nc: Awaited<ReturnType<typeof connect>>,
): Promise<Map<string, number[]>> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(FEED_STREAM);
  const out = new Map<string, number[]>();
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = (await jsm.streams.getMessage(FEED_STREAM, { seq }))!;
    const channel = m.subject.split(".").at(-1)!;
    let list = out.get(channel);
    if (!list) out.set(channel, list = []);
    list.push(seq);
  }
  return out;
}

test.run();
