/**
 * Durability against real processes and a real nats-server: a host killed with SIGKILL under load
 * and restarted loses no input and applies none twice; a nats-server restarted under load is
 * reconnected to and nothing JetStream stored is lost.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { statsActor, type StatsState, statsSummary } from "../../../../actors/stats/mod.ts";
import { ActorInstance } from "../../../../actors/runtime/instances/actor_instance.ts";
import { FileJournal } from "../../../../actors/runtime/journal/file_journal.ts";
import { PackedSnapshotStore } from "../../../../actors/runtime/snapshots/mod.ts";
import { ensureFeedStream } from "../../../../actors/runtime/edge/jetstream_input.ts";
import { launchHost } from "../../../../actors/runtime/host/launch_host.ts";
import { defaultHostConfig } from "../../../../actors/runtime/host/host_config.ts";
import { ACTOR_KINDS } from "../../../../actors/mod.ts";
import {
  decodeEnvelope,
  decodeInputRecord,
  encodeFrame,
  feedSubject,
  type SampleFrame,
} from "../../../../protocol/mod.ts";
import { Prng } from "../../../../sim/prng/mod.ts";
import type { NatsServer } from "../../../../actors/runtime/transport/nats_server.ts";
import { haveNatsServer, startTestNats, tempDir } from "../../../_support/nats.ts";
import { onlyKinds } from "../../../_support/only_kinds.ts";
import { startTroupe } from "../../../_support/cli.ts";

const test = suite("durability");

const CHANNELS = ["k0", "k1", "k2"];
const BATCH = 20;

function frame(channel: string, f: number, rng: Prng): SampleFrame {
  const t = new Float64Array(BATCH), v = new Float64Array(BATCH);
  for (let i = 0; i < BATCH; i++) {
    t[i] = 1_700_000_000_000_000 + (f * BATCH + i) * 1000;
    v[i] = rng.normal() * 3 + f;
  }
  return { channel, seq0: f * BATCH, t, v };
}

/** Replays a journal stream through a fresh instance: the reference state. */
async function fullReplay(
  journal: FileJournal,
  stream: string,
): Promise<{ state: number[]; srcPos: number[] }> {
  let inst: ActorInstance | undefined;
  const srcPos: number[] = [];
  for await (const rec of journal.read(stream, 0)) {
    const r = decodeInputRecord(rec.data);
    if (r.kind === "init") {
      inst = ActorInstance.create(
        statsActor,
        stream.split("/")[1]!,
        decodeEnvelope(r.payload).body,
      );
      inst.skip(rec.pos, 0);
      continue;
    }
    if (r.kind === "frame") srcPos.push(r.srcPos);
    inst!.apply(r, rec.pos);
  }
  return { state: Array.from(inst!.kernelState as StatsState), srcPos };
}

if (haveNatsServer("durability")) {
  test("a host killed with SIGKILL under load and restarted loses no input and applies none twice", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const nc = await connect({ servers: nats.url });
    try {
      await ensureFeedStream(nc);
      const js = jetstream(nc);
      const config = {
        host_id: "kill9",
        nats: nats.url,
        data_dir: join(dir.path, "host"),
        input: "jetstream",
        journal: { kind: "file", fsync: "interval", fsync_interval_ms: 20 },
        // Every instance snapshotted at the stop, whatever its inputs: the final state checked.
        snapshots: { every_inputs: 25, min_inputs: 1 },
        // One output per channel, when its last sample is applied: the signal that all is in.
        actors: onlyKinds({ stats: { every_samples: 150 * BATCH } }),
      };
      const configPath = join(dir.path, "host.json");
      writeFileSync(configPath, JSON.stringify(config));

      const rng = new Prng(7);
      const FRAMES = 150;
      const seqs = new Map<string, number[]>(CHANNELS.map((c) => [c, []]));
      let published = 0;
      const publish = async (upTo: number) => {
        for (; published < upTo; published++) {
          for (const ch of CHANNELS) {
            const ack = await js.publish(
              feedSubject("test", ch),
              encodeFrame(frame(ch, published, rng), { id: `f-${ch}-${published}`, src: "test" }),
            );
            seqs.get(ch)!.push(ack.seq); // acknowledged by JetStream: must never be lost
          }
        }
      };

      const done = new Set<string>();
      const sub = nc.subscribe("troupe.out.stats.*", {
        callback: (_err, m) => {
          const body = decodeEnvelope(m.data).body as { channel: string; count: number };
          if (body.count === FRAMES * BATCH) done.add(body.channel);
        },
      });
      let host = startTroupe(["run", "--config", configPath]);
      await host.waitFor("troupe run: host kill9 running");
      await publish(60);
      await new Promise((r) => setTimeout(r, 150));
      host.signal("SIGKILL"); // under load: inputs are still arriving
      await host.exited;
      await publish(110); // published while the host is down
      host = startTroupe(["run", "--config", configPath]);
      await host.waitFor("troupe run: host kill9 running");
      await publish(FRAMES);
      const deadline = Date.now() + 60_000;
      while (done.size < CHANNELS.length && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      sub.unsubscribe();
      host.signal("SIGTERM");
      const code = await host.exited;
      assert.is(code, 0, `${host.output()} signal=${host.child.signalCode}`);

      const journal = await FileJournal.open(join(dir.path, "host", "journal"), { fsync: "never" });
      const snapshots = await PackedSnapshotStore.open(join(dir.path, "host", "snapshots"));
      for (const ch of CHANNELS) {
        const { state, srcPos } = await fullReplay(journal, `stats/${ch}`);
        // Every acknowledged input, once, in order.
        assert.equal(srcPos, seqs.get(ch), `inputs of ${ch}`);
        assert.is(
          statsSummary(new Float64Array(state)).count,
          FRAMES * BATCH,
          `samples counted for ${ch}`,
        );
        // The host's final state (its snapshot at shutdown) equals the full replay.
        const snap = await snapshots.load(`stats/${ch}`);
        assert.ok(snap, `snapshot of ${ch}`);
        assert.equal(Array.from(statsActor.kernel.load(snap!.kernel)), state);
      }
      await journal.close();
    } finally {
      await nc.close();
      await nats.cleanup();
      dir.remove();
    }
  });

  test("a nats-server restarted under load: the host reconnects and no JetStream-stored input is lost", async () => {
    const first = await startTestNats();
    let nats: NatsServer = first;
    const dir = tempDir();
    try {
      const config = defaultHostConfig();
      config.host_id = "restart";
      config.nats = nats.url;
      config.data_dir = join(dir.path, "host");
      config.input = "jetstream";
      config.actors = { stats: { every_samples: 1_000_000 } };
      const launched = await launchHost(config, ACTOR_KINDS, { log: () => {} });
      const pub = await connect({
        servers: nats.url,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 100,
      });
      await ensureFeedStream(pub);
      const js = jetstream(pub);
      const rng = new Prng(3);
      let acked = 0;
      const FRAMES = 80;
      for (let f = 0; f < FRAMES; f++) {
        if (f === 40) {
          nats = await nats.restart(); // same port, same store
        }
        for (;;) {
          try {
            await js.publish(
              feedSubject("test", "r0"),
              encodeFrame(frame("r0", f, rng), { id: `r-${f}`, src: "t" }),
            );
            acked++;
            break;
          } catch {
            await new Promise((r) => setTimeout(r, 100)); // the server is restarting: retry
          }
        }
      }
      const deadline = Date.now() + 20_000;
      const counted = () => {
        const state = launched.host.instance("stats", "r0")?.kernelState as StatsState | undefined;
        return state === undefined ? 0 : statsSummary(state).count;
      };
      while (counted() !== FRAMES * BATCH) {
        if (Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const state = launched.host.instance("stats", "r0")!.kernelState as StatsState;
      assert.is(acked, FRAMES);
      assert.is(statsSummary(state).count, FRAMES * BATCH, "every acknowledged frame applied once");
      await pub.close();
      await launched.close();
    } finally {
      await nats.stop();
      await first.cleanup();
      dir.remove();
    }
  });
}

test.run();
