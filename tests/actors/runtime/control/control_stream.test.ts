/**
 * Control messages with JetStream input, against a real nats-server: a request is answered by the
 * host (`via: "stream"`: accepted, applied as the stream delivers it) and applied once (not once
 * per path it came by); one sent while the host is down is kept by the control stream and applied
 * when the host comes back. The stream never answers a request itself: a control stream made by
 * hand without `no_ack` answered each one with its PubAck before the hosts, and a host that opens
 * it sets `no_ack`, so the answers gathered are the hosts' alone.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { ACTOR_KINDS } from "../../../../actors/mod.ts";
import {
  type ControlApplied,
  defaultHostConfig,
  describeControlApplied,
  FileJournal,
  type HostConfig,
  type LaunchedHost,
  launchHost,
  NatsBus,
  readControlAnswers,
  requestAll,
} from "../../../../actors/runtime/mod.ts";
import {
  controlAnswerOf,
  ctlSubject,
  decodeEnvelope,
  encodeEnvelope,
  encodeFrame,
  type Envelope,
  feedSubject,
} from "../../../../protocol/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../../../_support/nats.ts";

const test = suite("control stream");

/** What an "ok" answer says was applied (protocol/events/control_answer.ts). */
function appliedOf(env: Envelope) {
  const a = controlAnswerOf(env);
  if (!a.ok) throw new Error(`refused: ${a.error}`);
  return a.applied;
}

function frame(f: number) {
  const t = new Float64Array(10), v = new Float64Array(10);
  for (let i = 0; i < 10; i++) {
    t[i] = 1_700_000_000_000_000 + (f * 10 + i) * 1000;
    v[i] = i;
  }
  return encodeFrame({ channel: "c0", seq0: f * 10, t, v }, { id: `c0-${f}`, src: "t" });
}

function everySamples(launched: LaunchedHost): number | undefined {
  const config = launched.host.instance("stats", "c0")?.config as { every_samples?: number };
  return config?.every_samples;
}

async function until(what: string, ms: number, done: () => boolean) {
  const t0 = Date.now();
  while (!done()) {
    if (Date.now() - t0 > ms) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function ctlRecords(dataDir: string): Promise<number> {
  const journal = await FileJournal.open(join(dataDir, "journal"), { fsync: "never" });
  let n = 0;
  for await (const rec of journal.read("stats/c0", 0)) {
    // The record's kind is its first field; a ctl record holds the control subject.
    if (new TextDecoder().decode(rec.data).includes("troupe.ctl.stats.c0")) n++;
  }
  await journal.close();
  return n;
}

if (haveNatsServer("control stream")) {
  test("with JetStream input, a control request is answered and applied once; one sent while the host is down is applied when it is back", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    let nc: NatsConnection | undefined;
    let launched: LaunchedHost | undefined;
    try {
      const config: HostConfig = defaultHostConfig();
      config.host_id = "ctl";
      config.nats = nats.url;
      config.data_dir = join(dir.path, "host");
      config.input = "jetstream";
      launched = await launchHost(config, ACTOR_KINDS, { log: () => {} });
      nc = await connect({ servers: nats.url });
      nc.publish(feedSubject("t", "c0"), frame(0));
      await until("the instance", 10_000, () => everySamples(launched!) !== undefined);

      const reply = await nc.request(
        ctlSubject("stats", "c0"),
        encodeEnvelope({
          id: "ctl-1",
          type: "config",
          src: "t",
          ts: 1,
          body: { every_samples: 77 },
        }),
        { timeout: 5000 },
      );
      const answer = decodeEnvelope(reply.data);
      assert.is(answer.type, "ok");
      // The live path only answers: the stream applies it, and the answer says so.
      const { settings, ...keyed } = answer.body as ControlApplied;
      assert.is((settings as { every_samples: number }).every_samples, 77);
      assert.equal(keyed, {
        kind: "stats",
        key: "c0",
        instances: 1,
        kind_config: false,
        via: "stream",
      });
      assert.is(
        describeControlApplied(appliedOf(answer)),
        "accepted, applied as the control stream delivers it, to stats/c0",
      );
      await until("the change applied", 10_000, () => everySamples(launched!) === 77);

      // Kind-wide: the running instances it will reach, and the kind's configuration.
      const wide = await nc.request(
        ctlSubject("stats"),
        encodeEnvelope({
          id: "ctl-wide",
          type: "config",
          src: "t",
          ts: 1,
          body: { every_samples: 77 },
        }),
        { timeout: 5000 },
      );
      const { settings: _wide, ...wideRest } = decodeEnvelope(wide.data).body as ControlApplied;
      assert.equal(wideRest, {
        kind: "stats",
        key: null,
        instances: 1,
        kind_config: true,
        via: "stream",
      });
      await launched.close();
      launched = undefined;
      assert.is(await ctlRecords(config.data_dir), 1, "applied once, not once per path");

      // The host is down: the stream keeps the message.
      nc.publish(
        ctlSubject("stats", "c0"),
        encodeEnvelope({
          id: "ctl-2",
          type: "config",
          src: "t",
          ts: 2,
          body: { every_samples: 88 },
        }),
      );
      await nc.flush();
      launched = await launchHost(config, ACTOR_KINDS, { log: () => {} });
      await until("the change sent while down", 10_000, () => everySamples(launched!) === 88);
      await launched.close();
      launched = undefined;
      assert.is(await ctlRecords(config.data_dir), 2);
    } finally {
      await launched?.close();
      await nc?.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

if (haveNatsServer("control stream made by hand")) {
  test("a control stream made by hand without no_ack is given it by the host: no PubAck answers a control request", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const nc = await connect({ servers: nats.url });
    const bus = await NatsBus.connect(nats.url);
    let launched: LaunchedHost | undefined;
    try {
      // As an operator's `nats stream add TROUPE_CTL --subjects 'troupe.ctl.>'` makes it.
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({
        name: "TROUPE_CTL",
        subjects: ["troupe.ctl.>"],
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
      });
      const config: HostConfig = defaultHostConfig();
      config.host_id = "ctl";
      config.nats = nats.url;
      config.data_dir = join(dir.path, "host");
      config.input = "jetstream";
      config.actors = { stats: {} };
      const logged: string[] = [];
      launched = await launchHost(config, ACTOR_KINDS, { log: (m) => logged.push(m) });
      const request = encodeEnvelope({
        id: "ctl-h",
        type: "config",
        src: "t",
        ts: 1,
        body: { every_samples: 5 },
      });
      const read = readControlAnswers(
        await requestAll(bus, ctlSubject("stats"), request, { timeout: 5000 }),
      );
      assert.equal(read.unreadable, [], "no answer but the host's");
      assert.equal(read.accepted, ["ctl"]);
      assert.is((await jsm.streams.info("TROUPE_CTL")).config.no_ack, true);
      assert.ok(logged.some((l) => l.includes("set no_ack on it")), logged.join("\n"));
    } finally {
      await launched?.close();
      await bus.close();
      await nc.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();
