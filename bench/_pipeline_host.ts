/**
 * The pipeline benchmark's host in a process of its own, as `troupe run` runs one: a child
 * running one actor host from the JSON host configuration given as its first argument
 * (launchHost), on the kind its second names. It grants the injector frames as it applies them,
 * as the benchmark's feeder does for a receiver in the benchmark's process, so that its figures
 * (samples/s, CPU, memory) are its own.
 *
 * Arguments: the configuration, the kind, the NATS URL, the credit subject, the window. It prints
 * `{"ready":true}` once consuming, and answers its stdin's lines:
 *
 * - `feed <epoch>`: grants the injector's epoch `<epoch>` credit as it applies frames (from what it
 *   has applied now; the benchmark gives the epoch's first window);
 * - `halt`: grants no more;
 * - `probe`: `{"consumed":n,"cpuUs":n,"nowMs":n,"peakMb":n,"rssMb":n}`: frames applied, its CPU
 *   (all threads, µs), its clock, its peak and present resident memory (MiB);
 * - `gc <t0> <t1>`: `{"gcPct":n}`, the share of `[t0, t1)` on its clock its main thread spent in
 *   collections (null where unreadable);
 *
 * and stops cleanly on SIGTERM (`{"stopped":true}`).
 */
import { connect } from "@nats-io/transport-node";
import process from "node:process";
import { createInterface } from "node:readline";
import { getHeapSpaceStatistics } from "node:v8";
import { ACTOR_KINDS } from "../actors/mod.ts";
import { describeError, launchHost, parseHostConfig } from "../actors/runtime/mod.ts";
import { nowMs } from "./_bench.ts";
import { GcPauses } from "./_gc_pauses.ts";
import { rssNowMb, rssPeakMb } from "./_process_usage.ts";

const [configJson = "{}", kind = "stats", natsUrl = "", creditSubject = "", windowText = "512"] =
  process.argv.slice(2);
const config = parseHostConfig(JSON.parse(configJson), ACTOR_KINDS);
const grantStep = Math.max(1, Number(windowText) >> 3);

/** Where its resident memory is now, MiB: V8's heap by space, and what lies outside it. */
function memoryParts(): Record<string, number> {
  const mb = (bytes: number) => Math.round(bytes / (1 << 20) * 10) / 10;
  const m = process.memoryUsage();
  const parts: Record<string, number> = {
    rss: mb(m.rss),
    heapCommitted: mb(m.heapTotal),
    heapUsed: mb(m.heapUsed),
    external: mb(m.external),
    arrayBuffers: mb(m.arrayBuffers),
  };
  for (const space of getHeapSpaceStatistics()) {
    parts[space.space_name] = mb(space.physical_space_size);
  }
  return parts;
}

/** Writes one JSON message on stdout. */
function say(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

try {
  const launched = await launchHost(config, ACTOR_KINDS, {
    log: (m) => process.stderr.write(`${m}\n`),
  });
  const consumed = () => launched.host.applied.get(kind) ?? 0;
  const control = await connect({ servers: natsUrl, name: "troupe-bench-pipeline-credit" });
  const gc = GcPauses.observe();
  let epoch = 0, granted = 0;
  // As the benchmark's feeder: credit in chunks of an eighth of the window, looked at each ms.
  const timer = setInterval(() => {
    if (epoch === 0) return;
    const now = consumed();
    if (now - granted < grantStep) return;
    control.publish(creditSubject, `${epoch} ${now - granted}`);
    granted = now;
  }, 1);
  createInterface({ input: process.stdin }).on("line", (line) => {
    const [word, a, b] = line.trim().split(" ");
    if (word === "feed") {
      epoch = Number(a);
      granted = consumed();
    } else if (word === "halt") {
      epoch = 0;
    } else if (word === "probe") {
      const cpu = process.cpuUsage();
      say({
        consumed: consumed(),
        cpuUs: cpu.user + cpu.system,
        nowMs: nowMs(),
        peakMb: Math.max(rssPeakMb() ?? 0, rssNowMb()),
        rssMb: rssNowMb(),
      });
    } else if (word === "memory") {
      say(memoryParts());
    } else if (word === "gc") {
      say({ gcPct: gc?.sharePct(Number(a), Number(b)) ?? null });
    }
  });
  say({ ready: true });
  const fatal = launched.fatal.then((err) => process.stderr.write(`fatal: ${err.message}\n`));
  await Promise.race([new Promise((r) => process.once("SIGTERM", r)), fatal]);
  clearInterval(timer);
  gc?.close();
  await control.close();
  await launched.close();
  say({ stopped: true });
  process.exit(0);
} catch (err) {
  process.stderr.write(`cannot start: ${describeError(err)}\n`);
  process.exit(1);
}
