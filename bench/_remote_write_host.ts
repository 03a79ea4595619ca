/**
 * The host of `troupe bench remote-write`'s detector run, in a process of its own (its memory is
 * what is measured): one actor host from the JSON host configuration file given as its only
 * argument (launchHost, as `troupe run` does), with the metrics receiver its `remote_write` block
 * sets up on a thread of its own with its own NATS connection, as `troupe run` starts it. Prints
 * `{"port":N}` (the receiver's) once both run; on SIGTERM it stops and prints `{"stopped_ms":N}`,
 * how long its stop took (the receiver, then the host: its snapshots written), and exits.
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { ACTOR_KINDS } from "../actors/mod.ts";
import { ReceiverThread } from "../actors/ingest/mod.ts";
import { launchHost, parseHostConfig } from "../actors/runtime/mod.ts";

const config = parseHostConfig(JSON.parse(readFileSync(process.argv[2]!, "utf8")), ACTOR_KINDS);
const launched = await launchHost(config, ACTOR_KINDS, {
  log: (m) => process.stderr.write(`${m}\n`),
});
const receiver = await ReceiverThread.start(config.remote_write ?? {}, {
  nats: config.nats!,
  name: "bench-remote-write-host",
  defaults: { channelsMax: config.limits.channels_max },
});
process.stdout.write(`${JSON.stringify({ port: receiver.port })}\n`);
await new Promise((r) => process.once("SIGTERM", r));
const stopT0 = performance.now();
await receiver.stop();
await launched.close();
// What a host this size takes to stop (its snapshots written), against its lease's TTL.
const stopped = JSON.stringify({ stopped_ms: Math.round(performance.now() - stopT0) });
// Written out before the exit: the bench reads it from the pipe.
await new Promise((r) => process.stdout.write(`${stopped}\n`, r));
process.exit(0);
