/**
 * What the cli suites that start a metrics receiver share: a remote-write request shaped as
 * Prometheus sends it, the receiver's URL read from the block the command prints, and the whole
 * check that a `troupe run` host's receiver answers a request once journaled and that its
 * samples reach the actors (each suite says only how its host is configured and started).
 */
import * as assert from "uvu/assert";
import { connect } from "@nats-io/transport-node";
import { encodeWriteRequest, snappyCompress } from "../../protocol/prometheus/mod.ts";
import { startTroupe } from "../_support/cli.ts";
import { startTestNats, tempDir } from "../_support/nats.ts";

/** The instances `remoteWriteReachesActors` writes one `node_load1` series of each. */
const INSTANCES = ["a", "b", "c", "d"];

/**
 * A snappy-compressed `WriteRequest`: one `node_load1{job="node"}` series for each of
 * `instances`, with `samples` values a second apart from `t0` (ms).
 */
export function nodeLoadWrite(
  instances: readonly string[],
  options: { t0: number; values: readonly number[] },
): Uint8Array<ArrayBuffer> {
  return snappyCompress(encodeWriteRequest({
    timeseries: instances.map((instance) => ({
      labels: [
        { name: "__name__", value: "node_load1" },
        { name: "instance", value: instance },
        { name: "job", value: "node" },
      ],
      samples: options.values.map((value, i) => ({ value, timestamp: options.t0 + i * 1000 })),
    })),
  })) as Uint8Array<ArrayBuffer>;
}

/** The remote-write URL in the `remote_write` block a command printed; fails naming the output. */
export function receiverUrl(output: string): string {
  const url = /url: (http:\/\/127\.0\.0\.1:\d+\/api\/v1\/write)/.exec(output)?.[1];
  assert.ok(url, `no remote_write url in:\n${output}`);
  return url!;
}

/** How a suite's `troupe run` host is set up. */
export interface RemoteWriteRunOptions {
  /** Writes the host's config file (with a `remote_write` block) in `dir`; returns its path. */
  config(dir: string, natsUrl: string): string;
  /** Arguments after `run --config PATH`. */
  args?: readonly string[];
  /** What the host's running line says of how it runs (its threads, its partitions). */
  says: string;
  /** How long the samples may take to reach the actors (a leased host takes its leases first). */
  reachMs: number;
}

/**
 * Starts a nats-server and `troupe run` on the config `options` writes, checks the receiver it
 * prints is durable, posts one request of four `node_load1` series and checks it is answered
 * 204, that each series' stats instance publishes, and that SIGINT then ends the host with 0.
 */
export async function remoteWriteReachesActors(options: RemoteWriteRunOptions): Promise<void> {
  const nats = await startTestNats();
  const dir = tempDir();
  const nc = await connect({ servers: nats.url });
  try {
    const path = options.config(dir.path, nats.url);
    const run = startTroupe(["run", "--config", path, ...options.args ?? []]);
    try {
      await run.waitFor("send_interval", 60_000);
      assert.match(run.output(), options.says);
      assert.match(run.output(), "acknowledged once on the feed stream");
      const url = receiverUrl(run.output());
      const seen = new Set<string>();
      nc.subscribe("troupe.out.stats.>", { callback: (_e, m) => void seen.add(m.subject) });
      const body = nodeLoadWrite(INSTANCES, { t0: Date.now(), values: [0.5, 0.7] });
      const r = await fetch(url, { method: "POST", body });
      assert.is(r.status, 204, await r.text());
      for (
        const t = Date.now();
        seen.size < INSTANCES.length && Date.now() - t < options.reachMs;
      ) {
        await new Promise((res) => setTimeout(res, 50));
      }
      assert.equal(
        [...seen].filter((s) => s.includes("node-node_load1")).sort(),
        INSTANCES.map((i) => `troupe.out.stats.${i}-node-node_load1`),
      );
      run.signal("SIGINT");
      assert.is(await run.exited, 0, run.output());
    } finally {
      run.signal("SIGKILL");
    }
  } finally {
    await nc.close();
    await nats.cleanup();
    dir.remove();
  }
}
