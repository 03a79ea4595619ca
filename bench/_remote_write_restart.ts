/**
 * `troupe bench remote-write`'s stop and start: the detector run's host, stopped cleanly after
 * its measured rounds (snapshots written where they pay), is started again on the same data
 * directory and timed until it has recovered every instance and answers a new sample (the
 * anomaly outputs of the watched channels for a request sent once it is back). Both are set
 * against the lease TTL a host of `--partitions auto` has by default: a leased host that takes
 * longer to come back finds its partitions taken over. Rows `host_stop_s` and `host_start_s`; the
 * log line says where the start went (process and host up, instances recovered, sample answered,
 * the instances it left dormant restored in the background: actors/runtime/recovery/warm_up.ts),
 * how many inputs recovery applied from the journal past the snapshots, and the CPU time of the
 * new host's main thread until every instance was recovered and until the sample was answered
 * (what the start cost, whatever else the machine runs meanwhile).
 */
import process from "node:process";
import type { NatsConnection } from "@nats-io/transport-node";
import { leaseSettings } from "../actors/runtime/mod.ts";
import { decodeEnvelope, outPattern, outPrefix } from "../protocol/mod.ts";
import { type BenchContext, type BenchRow, row } from "./_bench.ts";
import { ChildScript } from "./_child_script.ts";
import { requestBody } from "./_remote_write_requests.ts";
import { send } from "./_remote_write_send.ts";
import { sleep } from "./_sleep.ts";
import { processCpuMs, threadCpuMs } from "./_process_usage.ts";

const NAME = "remote-write";

/** The script of the detector run's host (bench/_remote_write_host.ts). */
export const HOST_SCRIPT = "bench/_remote_write_host.ts";

/** What the stop and start work with: the detector run's host, its files, what it watches. */
export interface RestartParts {
  /** The host running, to be stopped. */
  host: ChildScript;
  /** Its configuration file, for the start again on the same data directory. */
  config: string;
  /** Its /healthz and /metrics port. */
  httpPort: number;
  /** Its receiver's remote-write URL. */
  writeUrl: string;
  nc: NatsConnection;
  channels: number;
  /** The first shard's series (shard index 0 of the run), sent once the host is back. */
  labels: Uint8Array[];
  /** The channels whose anomaly outputs say the new sample is answered. */
  watched: ReadonlySet<string>;
  /** Milliseconds the host has to stop, and to start and answer, before it is given up. */
  waitMs: number;
}

/** A host's /healthz, the part read here. */
interface Health {
  ready: boolean;
  instances: Record<string, number>;
}

/**
 * Stops `p.host` (it says how long its stop took), starts it again, and gives the rows; the host
 * started again is stopped before it returns, as it is if anything fails.
 */
export async function restartRun(p: RestartParts, ctx: BenchContext): Promise<BenchRow[]> {
  const before = await health(p.httpPort);
  const instances = count(before.instances);
  process.kill(p.host.pid!, "SIGTERM");
  let said = await p.host.next(p.waitMs); // after its {"port"} line, unread
  while (said.stopped_ms === undefined) said = await p.host.next(p.waitMs);
  const stoppedS = Number(said.stopped_ms) / 1000;
  const stopCpu = `its main thread's CPU ${(Number(said.thread_cpu_ms) / 1000).toFixed(2)} s, ` +
    `its process's ${(Number(said.process_cpu_ms) / 1000).toFixed(2)} s`;
  await p.host.wait(p.waitMs);
  const t0 = performance.now();
  const since = () => (performance.now() - t0) / 1000;
  const again = ChildScript.start(HOST_SCRIPT, [p.config], ctx.log);
  try {
    await again.next(p.waitMs);
    const upS = since();
    await until(`${instances} instances recovered`, p.waitMs, async () => {
      const h = await health(p.httpPort).catch(() => undefined);
      return h !== undefined && h.ready && h.instances.recovering === 0 &&
        count(h.instances) >= instances;
    });
    const recoveredS = since();
    const recoveredCpuS = (threadCpuMs(again.pid) ?? NaN) / 1000;
    const recoveredProcessCpuS = (processCpuMs(again.pid) ?? NaN) / 1000;
    await answerNewSample(p);
    const startS = since();
    const startCpuS = (threadCpuMs(again.pid) ?? NaN) / 1000;
    // The instances the start left to be restored as used or in the background: when the last was.
    let metrics = "";
    await until("every instance restored", p.waitMs, async () => {
      metrics = await (await fetch(`http://127.0.0.1:${p.httpPort}/metrics`)).text();
      return !(figure(metrics, "troupe_recovery_dormant_instances") > 0);
    });
    const restoredS = since();
    const ttlS = leaseSettings().ttl_ms / 1000;
    ctx.log(
      `${NAME}: stop and start at ${p.channels} channels (${instances} instances): stopped in ` +
        `${stoppedS.toFixed(2)} s (${stopCpu}); started again on its data directory in ${
          startS.toFixed(2)
        } ` +
        `s (host and receiver up at ${upS.toFixed(2)} s, recovery ${
          figure(metrics, "troupe_recovery_seconds").toFixed(2)
        } s of it applying ${
          figure(metrics, "troupe_recovery_inputs")
        } inputs from the journal past the snapshots; every instance recovered at ${
          recoveredS.toFixed(2)
        } s; a new sample answered on ${p.watched.size} channels at ${startS.toFixed(2)} s; ` +
        `every instance restored (none left dormant) at ${restoredS.toFixed(2)} s; ` +
        `its main thread's CPU ${recoveredCpuS.toFixed(2)} s until every instance was ` +
        `recovered (its process's ${recoveredProcessCpuS.toFixed(2)} s), ${
          startCpuS.toFixed(2)
        } s until the sample was answered); a leased host's ` +
        `TTL by default ${ttlS} s`,
    );
    const against = (metric: string, s: number) =>
      row({
        bench: NAME,
        metric,
        unit: "s",
        troupe: Math.round(s * 100) / 100,
        baseline: ttlS,
        better: "lower",
        reference: "lease TTL (default)",
      });
    return [against("host_stop_s", stoppedS), against("host_start_s", startS)];
  } finally {
    try {
      if (again.pid !== undefined) process.kill(again.pid, "SIGTERM");
    } catch {
      // It has exited already.
    }
    await again.wait(p.waitMs);
  }
}

/**
 * Sends one new sample of every series of the first shard (retried as Prometheus retries) and
 * waits for the anomaly outputs of every watched channel for it.
 */
async function answerNewSample(p: RestartParts): Promise<void> {
  const tMs = Math.ceil(Date.now() / 1000) * 1000;
  const waiting = new Set(p.watched);
  const sub = p.nc.subscribe(outPattern("anomaly"), {
    callback: (_err, m) => {
      const channel = m.subject.slice(outPrefix("anomaly").length);
      if (waiting.has(channel) && outputMs(m.data) === tMs) waiting.delete(channel);
    },
  });
  try {
    await p.nc.flush();
    await send(p.writeUrl, requestBody(p.labels, tMs, 0), 10);
    await until("a new sample answered", p.waitMs, () => waiting.size === 0);
  } finally {
    sub.unsubscribe();
  }
}

/** The sample time (ms) an output answers: its envelope's `ts`, the frame's last sample's. */
function outputMs(data: Uint8Array): number | undefined {
  try {
    const ts = decodeEnvelope(data).ts;
    return ts === undefined ? undefined : Math.round(ts / 1000);
  } catch {
    return undefined;
  }
}

async function health(port: number): Promise<Health> {
  return await (await fetch(`http://127.0.0.1:${port}/healthz`)).json() as Health;
}

/** Instances of every status. */
function count(instances: Record<string, number>): number {
  return Object.values(instances).reduce((a, b) => a + b, 0);
}

/** A series' value in an exposition (NaN when missing). */
function figure(text: string, name: string): number {
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1]);
}

async function until(what: string, ms: number, done: () => boolean | Promise<boolean>) {
  const t0 = performance.now();
  while (!(await done())) {
    if (performance.now() - t0 > ms) throw new Error(`Timed out after ${ms} ms: ${what}`);
    await sleep(50);
  }
}
