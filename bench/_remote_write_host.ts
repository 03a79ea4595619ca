/**
 * The host of `troupe bench remote-write`'s detector run, in a process of its own (its memory is
 * what is measured): one actor host from the JSON host configuration file given as its only
 * argument (launchHost, as `troupe run` does), with the metrics receiver its `remote_write` block
 * sets up on a thread of its own with its own NATS connection, as `troupe run` starts it. Prints
 * `{"port":N}` (the receiver's) once both run; on SIGTERM it stops and prints how long its stop
 * took (the receiver, then the host: its snapshots written) and the CPU it used meanwhile
 * (`{"stopped_ms":N,"thread_cpu_ms":N,"process_cpu_ms":N}`), and exits.
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { ACTOR_KINDS } from "../actors/mod.ts";
import { threadCpuMs } from "./_process_usage.ts";
import { ReceiverThread } from "../actors/ingest/mod.ts";
import { launchHost, parseHostConfig } from "../actors/runtime/mod.ts";

const config = parseHostConfig(JSON.parse(readFileSync(process.argv[2]!, "utf8")), ACTOR_KINDS);
// The receiver starts beside the host, as `troupe run` starts it (actors/cluster/start_cluster.ts).
const receiving = ReceiverThread.start(config.remote_write ?? {}, {
  nats: config.nats!,
  name: "bench-remote-write-host",
  defaults: { channelsMax: config.limits.channels_max },
});
receiving.catch(() => {}); // its failure is seen below
const launched = await launchHost(config, ACTOR_KINDS, {
  log: (m) => process.stderr.write(`${m}\n`),
});
const receiver = await receiving;
process.stdout.write(`${JSON.stringify({ port: receiver.port })}\n`);
await new Promise((r) => process.once("SIGTERM", r));
const stopT0 = performance.now();
const threadMs0 = threadCpuMs(process.pid), cpu0 = process.cpuUsage();
await receiver.stop();
await launched.close();
// What a host this size takes to stop (its snapshots written), against its lease's TTL, and the
// CPU it took: its main thread's, and its process's (the collector's helpers, the receiver's
// thread, the file system's pool), which other work on the machine does not inflate.
const cpu = process.cpuUsage(cpu0);
const stopped = JSON.stringify({
  stopped_ms: Math.round(performance.now() - stopT0),
  thread_cpu_ms: Math.round((threadCpuMs(process.pid) ?? NaN) - (threadMs0 ?? NaN)),
  process_cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
});
// Written out before the exit: the bench reads it from the pipe.
await new Promise((r) => process.stdout.write(`${stopped}\n`, r));
process.exit(0);
