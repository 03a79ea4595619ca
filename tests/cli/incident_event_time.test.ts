/**
 * The incident stage's event time against a real nats-server, a real host running a user's kind
 * (the zscore example) and the stage `troupe run` starts (journaled under the host's data
 * directory): the host's progress marks move the stage's watermark, so a lone spike opens its
 * incident within the reorder bound and a second of wall time though no finding follows it; a
 * partition that took one input and went quiet holds the watermark back until its idle timeout,
 * then stops; and a frame dated 2100 neither carries event time there nor keeps later incidents
 * (nor its own) from resolving, before and after the stage restarts.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { Registry } from "prom-client";
import { zscore } from "../../examples/zscore/zscore.ts";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import {
  defaultHostConfig,
  type HostConfig,
  type LaunchedHost,
  launchHost,
  NatsBus,
  partitionOf,
} from "../../actors/runtime/mod.ts";
import {
  decodeIncident,
  encodeFrame,
  feedSubject,
  findingPattern,
  type Incident,
  outPattern,
} from "../../protocol/mod.ts";
import { type ClusterIncidents, startJournaledIncidents } from "../../actors/cluster/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";

const test = suite("incident event time");
const KINDS = { ...ACTOR_KINDS, zscore };
const REORDER_US = 2_000_000;
const STEP_MS = 100;

/** A live feed at the wall clock: each channel a sample every STEP_MS, a spike when asked. */
class Feed {
  readonly #bus: NatsBus;
  readonly #seq = new Map<string, number>();
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #spikes = new Set<string>();

  constructor(bus: NatsBus) {
    this.#bus = bus;
  }

  /** One sample of `channel` at `ts_us` (default now), valued `v` (default its quiet wave). */
  send(channel: string, ts_us = Date.now() * 1000, v?: number): void {
    const seq = this.#seq.get(channel) ?? 0;
    this.#seq.set(channel, seq + 1);
    const value = v ?? (this.#spikes.delete(channel) ? 1000 : 10 + 0.1 * Math.sin(seq));
    const frame = {
      channel,
      seq0: seq,
      t: new Float64Array([ts_us]),
      v: new Float64Array([value]),
    };
    this.#bus.publish(
      feedSubject("test", channel),
      encodeFrame(frame, { id: `${channel}:${seq}`, src: "feed" }),
    );
  }

  /** Sends a sample of each of `channels` every STEP_MS until stopped. */
  run(channels: readonly string[]): void {
    this.#timer = setInterval(() => {
      for (const c of channels) this.send(c);
    }, STEP_MS);
  }

  /** The next sample of `channel` is a spike. */
  spike(channel: string): void {
    this.#spikes.add(channel);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** The incident updates seen, each with the wall time (ms) it arrived. */
function watchIncidents(bus: NatsBus): Array<{ at_ms: number; incident: Incident }> {
  const seen: Array<{ at_ms: number; incident: Incident }> = [];
  bus.subscribe(outPattern("incident"), (m) => {
    seen.push({ at_ms: Date.now(), incident: decodeIncident(m.data).incident });
  });
  return seen;
}

/** The wall time (ms) each zscore finding arrived, by channel. */
function watchFindings(bus: NatsBus): Map<string, number[]> {
  const seen = new Map<string, number[]>();
  bus.subscribe(findingPattern("zscore_spike"), (m) => {
    const channel = m.subject.split(".").at(-1)!;
    seen.set(channel, [...(seen.get(channel) ?? []), Date.now()]);
  });
  return seen;
}

async function until(what: string, ms: number, check: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Cluster {
  config: HostConfig;
  launched: LaunchedHost;
  stageBus: NatsBus;
  stage: ClusterIncidents;
  feedBus: NatsBus;
  feed: Feed;
  incidents: Array<{ at_ms: number; incident: Incident }>;
  findings: Map<string, number[]>;
  restartStage(): Promise<void>;
  close(): Promise<void>;
}

async function cluster(
  natsUrl: string,
  dir: string,
  over: { partitions?: HostConfig["partitions"]; progress?: HostConfig["progress"] } = {},
  incidents: Record<string, unknown> = {},
): Promise<Cluster> {
  const config = defaultHostConfig();
  config.host_id = "h1";
  config.nats = natsUrl;
  config.data_dir = join(dir, "host");
  config.input = "core";
  config.actors = { zscore: { warmup_samples: 20 } };
  // Short windows, so an incident resolves seconds after its last finding.
  config.incidents = {
    reorder_us: REORDER_US,
    for_us: 0,
    hold_us: 2_000_000,
    group_window_us: 3_000_000,
    ...incidents,
  };
  if (over.partitions) config.partitions = over.partitions;
  if (over.progress) config.progress = over.progress;
  const launched = await launchHost(config, KINDS, { log: () => {} });
  const stageBus = await NatsBus.connect(natsUrl);
  const start = () =>
    startJournaledIncidents(config, {
      bus: stageBus,
      host: { metrics: { registry: new Registry() } },
    }, {
      command: "test",
    });
  const c: Cluster = {
    config,
    launched,
    stageBus,
    stage: await start(),
    feedBus: await NatsBus.connect(natsUrl),
    feed: undefined!,
    incidents: [],
    findings: new Map(),
    async restartStage() {
      await c.stage.close();
      c.stage = await start();
    },
    async close() {
      c.feed.stop();
      await c.stage.close().catch(() => {});
      await launched.close();
      await c.feedBus.close();
      await stageBus.close();
    },
  };
  c.feed = new Feed(c.feedBus);
  const watch = await NatsBus.connect(natsUrl);
  c.incidents = watchIncidents(watch);
  c.findings = watchFindings(watch);
  const close = c.close;
  c.close = async () => {
    await close();
    await watch.close();
  };
  return c;
}

if (haveNatsServer("incident event time")) {
  test("a lone finding opens its incident within reorder_us and a second of wall time, no other finding following it", async () => {
    const nats = await startTestNats();
    const dir = tempDir("troupe-event-time-");
    const c = await cluster(nats.url, dir.path);
    try {
      c.feed.run(["lone"]);
      await new Promise((r) => setTimeout(r, 3000)); // past the warm-up
      c.feed.spike("lone");
      await until("the spike's finding", 5000, () => (c.findings.get("lone") ?? []).length > 0);
      const found = c.findings.get("lone")![0]!;
      await until("its incident", 6000, () => c.incidents.length > 0);
      const opened = c.incidents[0]!;
      assert.is(opened.incident.members[0]!.channel, "lone");
      assert.is(c.findings.get("lone")!.length, 1, "one finding alone");
      const waited = opened.at_ms - found;
      assert.ok(waited <= REORDER_US / 1000 + 1000, `opened ${waited} ms after its finding`);
    } finally {
      await c.close();
      await nats.cleanup();
      dir.remove();
    }
  });

  test("a partition that went quiet holds the watermark back until its idle timeout, then not", async () => {
    const nats = await startTestNats();
    const dir = tempDir("troupe-event-time-");
    // Two channels on two partitions: `busy` keeps sending, `quiet` sends once and stops.
    const names = ["a", "b", "c", "d", "e", "f", "g", "h"];
    const busy = names.find((n) => partitionOf(`busy-${n}`, 2) === 0)!;
    const quiet = names.find((n) => partitionOf(`quiet-${n}`, 2) === 1)!;
    const idleMs = 4000;
    const c = await cluster(nats.url, dir.path, {
      partitions: { count: 2, owned: [0, 1] },
      progress: { interval_ms: 500, idle_ms: idleMs, ahead_ms: 60_000 },
    });
    try {
      c.feed.run([`busy-${busy}`]);
      await new Promise((r) => setTimeout(r, 2500)); // past the warm-up
      c.feed.send(`quiet-${quiet}`);
      const quietAt = Date.now();
      c.feed.spike(`busy-${busy}`);
      await until("the spike's finding", 5000, () => c.findings.size > 0);
      await until("its incident", idleMs + 6000, () => c.incidents.length > 0);
      const waited = c.incidents[0]!.at_ms - quietAt;
      assert.ok(
        waited >= idleMs - 200,
        `held back by the quiet partition: opened after ${waited} ms`,
      );
      assert.ok(
        waited <= idleMs + REORDER_US / 1000 + 1500,
        `then let go: opened after ${waited} ms`,
      );
    } finally {
      await c.close();
      await nats.cleanup();
      dir.remove();
    }
  });

  test("a frame dated 2100 keeps no incident from resolving, its own included, before and after the stage restarts", async () => {
    const nats = await startTestNats();
    const dir = tempDir("troupe-event-time-");
    const c = await cluster(
      nats.url,
      dir.path,
      { progress: { interval_ms: 500, idle_ms: 10_000, ahead_ms: 2000 } },
      { ahead_us_max: 2_000_000 },
    );
    const Y2100 = Date.parse("2100-01-01T00:00:00Z") * 1000;
    const resolved = (channel: string) =>
      c.incidents.some((u) =>
        u.incident.state === "resolved" && u.incident.members.some((m) => m.channel === channel)
      );
    try {
      c.feed.run(["steady"]);
      for (let i = 0; i < 25; i++) c.feed.send("future", Date.now() * 1000 - (25 - i) * 100_000);
      await new Promise((r) => setTimeout(r, 2500)); // past the warm-up
      c.feed.send("future", Y2100, 1000); // a spike dated 2100: a finding there
      await until("the 2100 finding", 5000, () => c.findings.has("future"));
      c.feed.spike("steady");
      await until("steady's incident to resolve", 15_000, () => resolved("steady"));
      await until("the 2100 finding's incident to resolve", 15_000, () => resolved("future"));
      const future = c.incidents
        .flatMap((u) => u.incident.members)
        .find((m) => m.channel === "future")!;
      const at = new Date(future.first_us / 1000).toISOString();
      assert.ok(future.first_us < Date.now() * 1000, `taken at the feeds' progress, not ${at}`);
      assert.ok(
        c.incidents.every((u) => u.incident.last_us < Date.now() * 1000),
        "no incident's time is ahead of the wall clock",
      );

      await c.restartStage(); // refolds the 2100 finding from its journal
      const before = c.incidents.length;
      c.feed.spike("steady");
      await until(
        "steady's next incident to resolve after the restart",
        15_000,
        () => c.incidents.slice(before).some((u) => u.incident.state === "resolved"),
      );
    } finally {
      await c.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();
