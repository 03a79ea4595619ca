/**
 * The host of `troupe bench remote-write`'s detector run, in a process of its own (its memory is
 * what is measured): one actor host from the JSON host configuration file given as its only
 * argument (launchHost, as `troupe run` does), with the metrics receiver its `remote_write` block
 * sets up, on the host's bus, as `troupe run` starts it. Prints `{"port":N}` (the receiver's)
 * once both run; exits on SIGTERM.
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { ACTOR_KINDS } from "../actors/mod.ts";
import { IngestServer, parseIngestSettings } from "../actors/ingest/mod.ts";
import { ensureFeedStream, launchHost, NatsBus, parseHostConfig } from "../actors/runtime/mod.ts";

const config = parseHostConfig(JSON.parse(readFileSync(process.argv[2]!, "utf8")), ACTOR_KINDS);
const launched = await launchHost(config, ACTOR_KINDS, {
  log: (m) => process.stderr.write(`${m}\n`),
});
const bus = launched.bus;
if (bus instanceof NatsBus) await ensureFeedStream(bus.nc);
const settings = parseIngestSettings(config.remote_write ?? {}, "remote_write", {
  channelsMax: config.limits.channels_max,
});
const receiver = new IngestServer(settings, {
  bus,
  durable: bus instanceof NatsBus,
});
await receiver.start();
process.stdout.write(`${JSON.stringify({ port: receiver.port })}\n`);
await new Promise((r) => process.once("SIGTERM", r));
await receiver.stop();
await launched.close();
process.exit(0);
