/**
 * A leased host makes the findings stream (the incident stage's journal) before any of its
 * partitions starts, against a real nats-server with JetStream: on a cluster's very first start a
 * finding its actors publish in their first milliseconds is journaled, though no host runs the
 * stage yet (the stage's lease keeper, which made the stream before, starts after the host). Its
 * partitions share its channel limit: past it, a new channel is refused whichever partition it
 * falls on, and /healthz and /metrics give the host's sums.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { ACTOR_KINDS } from "../../../../actors/mod.ts";
import {
  defaultHostConfig,
  FINDINGS_STREAM,
  type HostConfig,
  launchLeasedHost,
  type LeaseSettings,
  leaseSettings,
  type NatsBus,
  partitionOf,
} from "../../../../actors/runtime/mod.ts";
import { encodeFrame, feedSubject, findingSubject } from "../../../../protocol/mod.ts";
import { type StatsState, statsSummary } from "../../../../actors/stats/mod.ts";
import { anomalyFinding, anomalyFindingId } from "../../../_support/findings.ts";
import { haveNatsServer, startTestNats, tempDir } from "../../../_support/nats.ts";

const test = suite("launchLeasedHost");

/** A leased host's configuration: its own id and data directory, on `natsUrl`. */
function leasedConfig(
  natsUrl: string,
  id: string,
  dataDir: string,
): HostConfig & { partitions: { leases: LeaseSettings } } {
  const config = defaultHostConfig() as HostConfig & { partitions: { leases: LeaseSettings } };
  Object.assign(config, {
    host_id: id,
    nats: natsUrl,
    data_dir: dataDir,
    input: "jetstream",
    journal: { ...config.journal, kind: "jetstream" },
    snapshots: { ...config.snapshots, store: "kv" },
    partitions: { count: 2, owned: [], leases: leaseSettings(2000) },
    http_port: undefined,
  });
  return config;
}

if (haveNatsServer("launchLeasedHost against nats-server")) {
  test("a leased host's first start makes the findings stream before its partitions run", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const config = leasedConfig(nats.url, "first", join(dir.path, "first"));
    const host = await launchLeasedHost(config, ACTOR_KINDS, { log: () => {} });
    try {
      const nc = (host.bus as NatsBus).nc;
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(FINDINGS_STREAM);
      assert.is(info.state.messages, 0);
      // A finding published on the host's bus the moment it is up is in the stream.
      const ts = 1_800_000_000_000_000;
      host.bus.publish(findingSubject("anomaly", "SYM1"), anomalyFinding("SYM1", ts), {
        headers: { "Nats-Msg-Id": anomalyFindingId("SYM1", ts) },
      });
      await host.bus.flush();
      let stored = 0;
      for (let i = 0; i < 40 && stored === 0; i++) {
        stored = (await jsm.streams.info(FINDINGS_STREAM)).state.messages;
        if (stored === 0) await new Promise((r) => setTimeout(r, 25));
      }
      assert.is(stored, 1);
    } finally {
      await host.close();
      await nats.cleanup();
      dir.remove();
    }
  });

  test("a leased host's partitions share its channel limit; /healthz and /metrics give its sums", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const config = leasedConfig(nats.url, "lh", join(dir.path, "lh"));
    config.partitions.count = 4;
    config.http_port = 0;
    config.limits.channels_max = 5;
    config.actors = { stats: { every_samples: 10 } };
    const host = await launchLeasedHost(config, ACTOR_KINDS, { log: () => {} });
    const nc = (host.bus as NatsBus).nc;
    const url = `http://127.0.0.1:${host.httpPort}`;
    const room = async () => (await (await fetch(`${url}/healthz`)).json()).channels;
    const figure = async (name: string) => {
      const text = await (await fetch(`${url}/metrics`)).text();
      assert.not.match(text, new RegExp(`^${name}\\{host="part-`, "m"), "no partition's own");
      return Number(new RegExp(`^${name}\\{host="lh"\\} (\\S+)$`, "m").exec(text)?.[1]);
    };
    const publish = (channels: string[]) => {
      for (const ch of channels) {
        const t = Float64Array.from({ length: 10 }, (_, i) => 1_700_000_000_000_000 + i * 1000);
        const frame = encodeFrame({ channel: ch, seq0: 0, t, v: t.map(Math.sin) }, {
          id: `${ch}-0`,
          src: "test",
        });
        nc.publish(feedSubject("t", ch), frame);
      }
    };
    try {
      await until("every partition held", () => host.partitions.size === 4);
      // c0-c7 fall on all four partitions (partitionOf): each partition alone is under 5.
      const parts = ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"].map((c) => partitionOf(c, 4));
      assert.equal([0, 1, 2, 3].map((p) => parts.filter((q) => q === p).length), [2, 2, 2, 2]);
      publish(["c0", "c1", "c2"]);
      await until("three admitted", async () => (await room())?.admitted === 3);
      assert.equal(await room(), { admitted: 3, max: 5, free: 2 });
      assert.is(await figure("troupe_channels_free"), 2);
      publish(["c3", "c4", "c5", "c6", "c7"]);
      await until(
        "three refused",
        async () => await figure("troupe_channel_frames_refused_total") === 3,
      );
      assert.equal(await room(), { admitted: 5, max: 5, free: 0 });
      assert.is(await figure("troupe_channels"), 5);
      assert.is(await figure("troupe_channels_max"), 5);
      assert.is(await figure("troupe_channels_free"), 0);
    } finally {
      await host.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

if (haveNatsServer("launchLeasedHost: a channel on two partitions")) {
  test("a channel two partitions hold (its own, its coherence group's) counts once against the limit", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const config = leasedConfig(nats.url, "lc", join(dir.path, "lc"));
    config.partitions.count = 4;
    config.http_port = 0;
    config.limits.channels_max = 5;
    // Coherence's default group `all`: one instance, on partition partitionOf("all"), fed every
    // channel, so that partition admits every channel as well as each channel's own partition.
    config.actors = { stats: { every_samples: 10 }, coherence: {} };
    const host = await launchLeasedHost(config, ACTOR_KINDS, { log: () => {} });
    const nc = (host.bus as NatsBus).nc;
    const url = `http://127.0.0.1:${host.httpPort}`;
    const room = async () => (await (await fetch(`${url}/healthz`)).json()).channels;
    const refused = async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return Number(/^troupe_channel_frames_refused_total\{host="lc"\} (\S+)$/m.exec(text)?.[1]);
    };
    try {
      await until("every partition held", () => host.partitions.size === 4);
      const channels = ["c0", "c1", "c2", "c3", "c4"];
      const all = partitionOf("all", 4);
      assert.ok(channels.filter((c) => partitionOf(c, 4) !== all).length >= 3, "most elsewhere");
      for (const [i, ch] of channels.entries()) {
        const t = Float64Array.from({ length: 10 }, (_, j) => 1_700_000_000_000_000 + j * 1000);
        const frame = encodeFrame({ channel: ch, seq0: 0, t, v: t.map((x) => x * i) }, {
          id: `${ch}-0`,
          src: "test",
        });
        nc.publish(feedSubject("t", ch), frame);
      }
      await until("five admitted", async () => (await room())?.admitted === 5);
      assert.equal(await room(), { admitted: 5, max: 5, free: 0 });
      assert.is(await refused(), 0, "none refused: the five are five channels, not more");
      const t = Float64Array.of(1_700_000_000_000_000);
      nc.publish(
        feedSubject("t", "c5"),
        encodeFrame({ channel: "c5", seq0: 0, t, v: t }, { id: "c5-0", src: "test" }),
      );
      await until("the sixth refused", async () => (await refused()) >= 1);
      assert.equal(await room(), { admitted: 5, max: 5, free: 0 });
    } finally {
      await host.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

if (haveNatsServer("launchLeasedHost: started again")) {
  test("a leased host journals each partition in a stream of its own, and recovers from it when started again", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const config = leasedConfig(nats.url, "la", join(dir.path, "la"));
    config.partitions.count = 4;
    config.actors = { stats: { every_samples: 10 } };
    const channels = ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"];
    const publish = (nc: NatsBus["nc"], round: number) => {
      for (const ch of channels) {
        const t = Float64Array.from({ length: 10 }, (_, i) => 1_700_000_000_000_000 + i * 1000);
        const frame = encodeFrame({ channel: ch, seq0: round * 10, t, v: t.map(Math.sin) }, {
          id: `${ch}-${round}`,
          src: "test",
        });
        nc.publish(feedSubject("t", ch), frame);
      }
    };
    const counts = (host: Awaited<ReturnType<typeof launchLeasedHost>>) =>
      channels.map((ch) => {
        const inst = host.partitions.get(partitionOf(ch, 4))?.instance("stats", ch);
        return inst ? statsSummary(inst.kernelState as StatsState).count : 0;
      });
    let host = await launchLeasedHost(config, ACTOR_KINDS, { log: () => {} });
    const lines: string[] = [];
    const admin = await connect({ servers: nats.url });
    try {
      await until("every partition held", () => host.partitions.size === 4);
      publish((host.bus as NatsBus).nc, 0);
      await until("every channel's frame applied", () => counts(host).every((n) => n === 10));
      // One input an instance: fewer than a stop snapshots (snapshots.min_inputs), so each is
      // restored from the journal past its snapshot.
      await host.close();
      const jsm = await jetstreamManager(admin);
      const names: string[] = [];
      for await (const name of jsm.streams.names()) names.push(name);
      assert.not.ok(names.includes("TROUPE_JOURNAL"), `no shared journal stream: ${names}`);
      for (let p = 0; p < 4; p++) {
        const info = await jsm.streams.info(`TROUPE_JOURNAL_P${p}`, { subjects_filter: ">" });
        assert.is(info.config.description, `troupe: the journal of partition ${p} of 4`);
        const prefix = `troupe.journal_part.${p}.`;
        const subjects = Object.keys(info.state.subjects ?? {}).filter((s) =>
          s !== `${prefix}_edge.part-${p}`
        );
        const mine = channels.filter((ch) => partitionOf(ch, 4) === p);
        assert.equal(subjects.sort(), mine.map((ch) => `${prefix}stats.${ch}`).sort());
      }
      host = await launchLeasedHost(config, ACTOR_KINDS, { log: (m) => lines.push(m) });
      await until("every partition held again", () => host.partitions.size === 4);
      publish((host.bus as NatsBus).nc, 1);
      await until(
        "every channel's second frame applied",
        () => counts(host).every((n) => n === 20),
      );
      const recovered = lines.filter((l) => /recovered [1-9]\d* actor instances/.test(l));
      const holding = new Set(channels.map((ch) => partitionOf(ch, 4))).size;
      assert.is(recovered.length, holding, lines.join("\n"));
      await host.close();
      // A cluster whose partitions journaled in the one shared stream of an older troupe.
      await jsm.streams.add({ name: "TROUPE_JOURNAL", subjects: ["troupe.journal.>"] });
      await jetstream(admin).publish("troupe.journal._edge.part-2", new Uint8Array([1]));
      const refused = await launchLeasedHost(config, ACTOR_KINDS, { log: () => {} }).then(
        (h) => (host = h, undefined),
        (err: Error) => err.message,
      );
      assert.match(refused ?? "", /TROUPE_JOURNAL holds leased partitions' records/);
      assert.match(refused ?? "", "troupe.journal._edge.part-2");
      assert.match(refused ?? "", "cannot read it");
      // Its partitions' count changed: refused before any partition starts, saying the count.
      await jsm.streams.delete("TROUPE_JOURNAL");
      const three = leasedConfig(nats.url, "lb", join(dir.path, "lb"));
      three.partitions.count = 3;
      three.actors = config.actors;
      const changed = await launchLeasedHost(three, ACTOR_KINDS, { log: () => {} }).then(
        (h) => (host = h, undefined),
        (err: Error) => err.message,
      );
      assert.match(changed ?? "", "Cannot start host lb: its partitions.count is 3");
      assert.match(changed ?? "", 'TROUPE_JOURNAL_P0: "troupe: the journal of partition 0 of 4"');
      assert.match(changed ?? "", "and 3 more streams");
      assert.match(changed ?? "", "Set partitions.count to 4");
    } finally {
      await admin.close();
      await host.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

async function until(what: string, done: () => boolean | Promise<boolean>, ms = 20_000) {
  const t0 = Date.now();
  while (!(await done())) {
    if (Date.now() - t0 > ms) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test.run();
