/**
 * startCluster against a real nats-server: the stage starts before the host takes input and
 * stops in the order its bus allows, the receiver runs from the config's block, a part that
 * cannot start is named and leaves nothing running (the data directory is free for the next
 * start), and leased configurations run as hosts sharing the partitions, handed off at close.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "node:net";
import { Gauge } from "prom-client";
import { join } from "node:path";
import {
  type ClusterStage,
  type ClusterStageStarts,
  ClusterStartError,
  type LeasedConfig,
  startCluster,
} from "../../../actors/cluster/mod.ts";
import {
  defaultHostConfig,
  type HostConfig,
  leaseSettings,
  NatsBus,
  NatsServer,
} from "../../../actors/runtime/mod.ts";
import { findingSubject } from "../../../protocol/mod.ts";
import { anomalyFinding } from "../../_support/findings.ts";
import { haveNatsServer, startTestNats, tempDir } from "../../_support/nats.ts";

const test = suite("startCluster");

/** A host config on `nats`, its journal in `dir`. */
function hostConfig(nats: string, dir: string, id = "c1"): HostConfig {
  const config = defaultHostConfig();
  Object.assign(config, {
    host_id: id,
    nats,
    data_dir: join(dir, id),
    input: "core",
    http_port: 0,
    actors: { stats: {} },
  });
  return config;
}

/** A stage that notes what it saw of the host when it started and stopped. */
function notingStage(notes: string[], bus?: NatsBus): ClusterStageStarts {
  const stage = (name: string, hostBus?: NatsBus): ClusterStage => ({
    line: `stage on ${name}`,
    restored: 7,
    close: () => {
      const state = hostBus === undefined ? "none" : hostBus.nc.isClosed() ? "closed" : "open";
      notes.push(`close ${name}: host bus ${state}`);
      return Promise.resolve();
    },
  });
  return {
    host: (config, parts) => {
      notes.push(`start ${config.host_id}: applied ${[...parts.host.applied.values()].length}`);
      return Promise.resolve(stage(config.host_id, parts.bus as NatsBus));
    },
    threaded: (config, registry) => {
      const help = "set by the test's stage";
      new Gauge({ name: "stage_test_marker", help, registers: [registry] }).set(7);
      notes.push(`threaded ${config.host_id}`);
      return Promise.resolve(stage(config.host_id));
    },
    leased: (config, host) => {
      notes.push(`leased ${config.host_id}`);
      return Promise.resolve(stage(config.host_id, host.bus as NatsBus));
    },
    ...(bus ? { bus } : {}),
  };
}

/** A port some other listener holds. */
async function takenPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as { port: number }).port, server };
}

if (haveNatsServer("startCluster against nats-server")) {
  test("startCluster() runs a host, its stage and its receiver, and stops the stage first on the host's bus", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    try {
      const notes: string[] = [];
      const config = hostConfig(nats.url, dir.path);
      config.remote_write = { port: 0 };
      const cluster = await startCluster(config, { stage: notingStage(notes), log: () => {} });
      assert.is(cluster.kind, "host");
      assert.equal(notes, ["start c1: applied 0"]);
      assert.is(cluster.stage?.restored, 7);
      assert.ok(cluster.httpPorts[0]! > 0, `port ${cluster.httpPorts[0]}`);
      assert.ok(cluster.receiver!.port > 0);
      assert.match(cluster.receiver!.line, "acknowledged once on the feed stream");
      const health = await fetch(`http://127.0.0.1:${cluster.receiver!.port}/healthz`);
      assert.is(health.status, 200);
      await health.body?.cancel();
      assert.is(await cluster.close(), true);
      // The host closes the bus it opened: the stage on it stopped while it was open.
      assert.equal(notes, ["start c1: applied 0", "close c1: host bus open"]);
      // Asked again, close gives the same answer without stopping twice.
      assert.is(await cluster.close(), true);
      assert.is(notes.length, 2);
      const refused = await fetch(`http://127.0.0.1:${cluster.receiver!.port}/healthz`).then(
        (r) => r.body?.cancel().then(() => false),
        () => true,
      );
      assert.is(refused, true, "the receiver still answers after close");
    } finally {
      dir.remove();
      await nats.cleanup();
    }
  });

  test("startCluster() stops the hosts before a stage with a bus of its own", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const own = await NatsBus.connect(nats.url, { name: "stage-own" });
    try {
      const notes: string[] = [];
      const cluster = await startCluster(hostConfig(nats.url, dir.path), {
        stage: notingStage(notes, own),
        log: () => {},
      });
      assert.is(cluster.receiver, undefined);
      assert.is(await cluster.close(), true);
      assert.equal(notes, ["start c1: applied 0", "close c1: host bus closed"]);
    } finally {
      await own.close();
      dir.remove();
      await nats.cleanup();
    }
  });

  test("startCluster() runs a host on threads, a partition each, its stage on this thread", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    try {
      const notes: string[] = [];
      const config = hostConfig(nats.url, dir.path);
      config.partitions = { count: 2, owned: [0, 1] };
      const cluster = await startCluster(config, {
        threads: 2,
        stage: notingStage(notes),
        log: () => {},
      });
      assert.is(cluster.kind, "threads");
      assert.is(cluster.threads, 2);
      assert.is(cluster.bus, undefined);
      assert.equal(notes, ["threaded c1"]);
      // The stage's metrics are served on the host's /metrics, with the threads'.
      const metrics = await fetch(`http://127.0.0.1:${cluster.httpPorts[0]}/metrics`);
      assert.match(await metrics.text(), /stage_test_marker(\{[^}]*\})? 7/);
      assert.is(await cluster.close(), true);
      assert.equal(notes.slice(1), ["close c1: host bus none"]);
    } finally {
      dir.remove();
      await nats.cleanup();
    }
  });

  test("a stage that cannot start is named, and the host it stood beside is stopped", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    try {
      const failing: ClusterStageStarts = {
        ...notingStage([]),
        host: () => Promise.reject(new Error("journal full")),
      };
      const config = hostConfig(nats.url, dir.path);
      const err = await startCluster(config, { stage: failing, log: () => {} }).then(
        () => undefined,
        (e) => e,
      );
      assert.instance(err, ClusterStartError);
      assert.is(err.part, "the incident stage");
      assert.is(err.message, "Cannot start the incident stage: journal full");
      // The host released its data directory: a cluster starts on it again.
      const again = await startCluster(config, { log: () => {} });
      assert.is(await again.close(), true);
    } finally {
      dir.remove();
      await nats.cleanup();
    }
  });

  test("a receiver that cannot listen is named, and the started host and stage are stopped", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const taken = await takenPort();
    try {
      const notes: string[] = [];
      const config = hostConfig(nats.url, dir.path);
      config.remote_write = { port: taken.port };
      const err = await startCluster(config, { stage: notingStage(notes), log: () => {} }).then(
        () => undefined,
        (e) => e,
      );
      assert.instance(err, ClusterStartError);
      assert.is(err.part, "the metrics receiver");
      assert.match(err.message, String(taken.port));
      assert.equal(notes, ["start c1: applied 0", "close c1: host bus open"]);
      const again = await startCluster(hostConfig(nats.url, dir.path), { log: () => {} });
      assert.is(await again.close(), true);
    } finally {
      taken.server.close();
      dir.remove();
      await nats.cleanup();
    }
  });

  test("leased configurations run as hosts sharing the partitions, each with its stage share", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    try {
      const leases = leaseSettings(2000);
      const configs: LeasedConfig[] = ["l1", "l2"].map((id) => {
        const config = hostConfig(nats.url, dir.path, id);
        return {
          ...config,
          input: "jetstream",
          journal: { ...config.journal, kind: "jetstream" },
          snapshots: { ...config.snapshots, store: "kv" },
          partitions: { count: 4, owned: [], leases },
        };
      });
      const notes: string[] = [];
      const cluster = await startCluster(configs, { stage: notingStage(notes), log: () => {} });
      assert.is(cluster.kind, "leased");
      assert.is(cluster.leased.length, 2);
      assert.equal(notes, ["leased l1", "leased l2"]);
      const held = () => cluster.leased.flatMap((h) => h.leases.owned()).sort();
      for (let i = 0; i < 200 && held().length < 4; i++) {
        await new Promise((r) => setTimeout(r, 25));
      }
      assert.equal(held(), [0, 1, 2, 3]);
      assert.is(await cluster.close(), true);
      // The stage shares stop first (none claims a lease another released), then the hosts.
      assert.equal(notes.slice(2).sort(), ["close l1: host bus open", "close l2: host bus open"]);
    } finally {
      dir.remove();
      await nats.cleanup();
    }
  });

  test("startCluster() starts troupe's own stage from the configuration unless told not to", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    try {
      const config = hostConfig(nats.url, dir.path);
      const cluster = await startCluster(config, { log: () => {} });
      // Core input and a file journal: the stage still journals in the findings stream.
      assert.match(
        cluster.stage?.line ?? "",
        "incidents: this host runs the cluster's stage (it owns partition 0), journaled in " +
          "stream TROUPE_FINDINGS; 0 findings refolded, 0 incidents open",
      );
      assert.is(await cluster.close(), true);
      const none = await startCluster(config, { stage: false, log: () => {} });
      assert.is(none.stage, undefined);
      assert.is(await none.close(), true);
      // Not the partition-0 host: no stage.
      config.partitions = { ...config.partitions, count: 2, owned: [1] };
      const other = await startCluster(config, { log: () => {} });
      assert.is(other.stage, undefined);
      assert.is(await other.close(), true);
    } finally {
      dir.remove();
      await nats.cleanup();
    }
  });

  test("startCluster() on a NATS server without JetStream runs the stage on a journal of its own", async () => {
    const server = await NatsServer.start(); // no store directory: JetStream off
    const dir = tempDir();
    const bus = await NatsBus.connect(server.url);
    try {
      const config = hostConfig(server.url, dir.path);
      // No progress marks: the journal holds the two findings alone.
      config.progress = { interval_ms: 0, idle_ms: 10_000, ahead_ms: 60_000 };
      const journal = join(config.data_dir, "incidents");
      const first = await startCluster(config, { log: () => {} });
      assert.match(first.stage?.line ?? "", `journaled in ${journal}; 0 findings refolded`);
      const ts = 1_700_000_000_000_000;
      bus.publish(findingSubject("anomaly", "A"), anomalyFinding("A", ts));
      bus.publish(findingSubject("anomaly", "B"), anomalyFinding("B", ts + 100_000));
      await bus.flush();
      await new Promise((r) => setTimeout(r, 300));
      assert.is(await first.close(), true);
      // The clean stop saved the stage at the journal's second record.
      const again = await startCluster(config, { log: () => {} });
      assert.match(again.stage?.line ?? "", "0 findings refolded after the snapshot at 2");
      assert.is(await again.close(), true);
    } finally {
      await bus.close();
      dir.remove();
      await server.stop();
    }
  });

  test("startCluster() refuses several configurations that do not share partitions by lease", async () => {
    const config = defaultHostConfig() as LeasedConfig;
    const err = await startCluster([config, config]).then(() => undefined, (e) => e);
    assert.instance(err, ClusterStartError);
    assert.is(
      err.message,
      "Cannot start a cluster: hosts in one process share partitions by lease",
    );
  });
}

test.run();
