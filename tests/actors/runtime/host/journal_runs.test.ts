/**
 * A host on the JetStream journal journals the inputs waiting in an instance's mailbox as runs, one
 * message a run, against a real nats-server: 600 frames published at once to one instance are
 * written in far fewer messages than inputs, each applied once and in order, the instance's state
 * is the fold of its journal record by record, and a host started on that journal alone (no
 * snapshot) rebuilds the same state. With `journal.runs` false (a rolling upgrade from hosts that
 * misread runs), each input is a message of its own.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { statsActor, type StatsState } from "../../../../actors/stats/mod.ts";
import { ActorInstance } from "../../../../actors/runtime/instances/actor_instance.ts";
import {
  JetStreamJournal,
  JOURNAL_STREAM,
} from "../../../../actors/runtime/journal/jetstream/mod.ts";
import { type LaunchedHost, launchHost } from "../../../../actors/runtime/host/launch_host.ts";
import { defaultHostConfig, type HostConfig } from "../../../../actors/runtime/host/host_config.ts";
import { ACTOR_KINDS } from "../../../../actors/mod.ts";
import {
  decodeEnvelope,
  decodeInputRecord,
  encodeFrame,
  feedSubject,
} from "../../../../protocol/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../../../_support/nats.ts";

const test = suite("journal runs");
const it = haveNatsServer("journal runs") ? test : test.skip;

const FRAMES = 600;
const CHANNEL = "g0";
const STREAM = `stats/${CHANNEL}`;

function frame(f: number): Uint8Array {
  const t = new Float64Array(4), v = new Float64Array(4);
  for (let i = 0; i < 4; i++) {
    t[i] = 1_700_000_000_000_000 + (f * 4 + i) * 1000;
    v[i] = Math.sin(f * 4 + i) * 10 + f / 7;
  }
  return encodeFrame({ channel: CHANNEL, seq0: f * 4, t, v }, { id: `f-${f}`, src: "test" });
}

/**
 * A host of the stats kind on the JetStream journal, writing runs or not, that takes no snapshot at
 * any time: a second host on the same journal has the journal alone.
 */
function hostConfig(natsUrl: string, dir: string, runs: boolean): HostConfig {
  const d = defaultHostConfig();
  return {
    ...d,
    host_id: "runs",
    nats: natsUrl,
    data_dir: join(dir, "host"),
    journal: { kind: "jetstream", fsync: "never", fsync_interval_ms: 100, runs },
    snapshots: { ...d.snapshots, every_inputs: 1e9, min_inputs: 1e9 },
    actors: { stats: { every_samples: 40 } },
  };
}

/** Publishes the FRAMES frames to the channel and waits until `host` applied every one. */
async function feedAll(
  nc: NatsConnection,
  host: LaunchedHost["host"],
  logs: string[],
): Promise<void> {
  for (let f = 0; f < FRAMES; f++) nc.publish(feedSubject("runs", CHANNEL), frame(f));
  await nc.flush();
  // The init record at 1, the frames after it.
  await until(
    "every frame applied",
    () => host.instance("stats", CHANNEL)?.pos === FRAMES + 1,
    logs,
  );
}

/** The messages the journal stream holds on the instance's subject. */
async function journalMessages(nc: NatsConnection): Promise<number> {
  const subject = `troupe.journal.stats.${CHANNEL}`;
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(JOURNAL_STREAM, { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

async function until(what: string, done: () => boolean, logs: string[]): Promise<void> {
  const t0 = Date.now();
  while (!done()) {
    if (Date.now() - t0 > 30_000) throw new Error(`timed out: ${what}\n${logs.join("\n")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

it("a mailbox's waiting inputs go in runs, each applied once; the journal alone rebuilds them", async () => {
  const nats = await startTestNats();
  const dir = tempDir();
  const nc = await connect({ servers: nats.url });
  const logs: string[] = [];
  const config = hostConfig(nats.url, dir.path, true);
  const outputs = new Map<string, Set<string>>();
  nc.subscribe("troupe.out.>", {
    callback: (_err, m) => {
      const id = decodeEnvelope(m.data).id;
      let seen = outputs.get(id);
      if (!seen) outputs.set(id, seen = new Set());
      seen.add(Buffer.from(m.data).toString("base64"));
    },
  });
  let launched: LaunchedHost | undefined;
  try {
    const start = () =>
      launchHost(config, ACTOR_KINDS, { log: (m) => logs.push(m), tickEveryMs: 0 });
    launched = await start();
    const host = launched.host;
    await feedAll(nc, host, logs);
    const live = Array.from(host.instance("stats", CHANNEL)!.kernelState as StatsState);

    const messages = await journalMessages(nc);
    assert.ok(messages >= 2 && messages < 60, `${FRAMES + 1} records in ${messages} messages`);

    // The journal read back record by record: every frame once, in order, folding to the state.
    const journal = await JetStreamJournal.open(nc, {});
    let inst: ActorInstance | undefined;
    const ids: string[] = [];
    let next = 1;
    for await (const rec of journal.read(STREAM, 0)) {
      assert.is(rec.pos, next++);
      const r = decodeInputRecord(rec.data);
      if (r.kind === "init") {
        inst = ActorInstance.create(statsActor, CHANNEL, decodeEnvelope(r.payload).body);
        inst.skip(rec.pos, 0);
        continue;
      }
      ids.push(decodeEnvelope(r.payload).id);
      inst!.apply(r, rec.pos);
    }
    assert.equal(ids, Array.from({ length: FRAMES }, (_, f) => `f-${f}`));
    assert.equal(Array.from(inst!.kernelState as StatsState), live);
    await until("outputs in", () => outputs.size >= FRAMES * 4 / 40, logs);
    for (const [id, seen] of outputs) assert.is(seen.size, 1, `output ${id} published once`);

    // A second host on the journal alone rebuilds the same state.
    await launched.close();
    launched = await start();
    const rebuilt = launched.host;
    await until("rebuilt", () => rebuilt.instance("stats", CHANNEL)?.pos === FRAMES + 1, logs);
    assert.equal(Array.from(rebuilt.instance("stats", CHANNEL)!.kernelState as StatsState), live);
  } finally {
    await launched?.close();
    await nc.close();
    await nats.cleanup();
    dir.remove();
  }
});

it("with journal.runs false, each input is a message of its own, as older hosts read", async () => {
  const nats = await startTestNats();
  const dir = tempDir();
  const nc = await connect({ servers: nats.url });
  const logs: string[] = [];
  const config = hostConfig(nats.url, dir.path, false);
  const launched = await launchHost(config, ACTOR_KINDS, { log: (m) => logs.push(m) });
  try {
    await feedAll(nc, launched.host, logs);
    assert.is(await journalMessages(nc), FRAMES + 1);
  } finally {
    await launched.close();
    await nc.close();
    await nats.cleanup();
    dir.remove();
  }
});

test.run();
