/**
 * `troupe run`: one actor host, from a JSON configuration file (or the defaults), until Ctrl-C,
 * which drains, snapshots and stops it cleanly.
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import {
  type HostConfig,
  JournalLossError,
  launchHost,
  parseHostConfig,
  parsePartitions,
} from "../../actors/runtime/mod.ts";
import { ConfigError } from "../../protocol/mod.ts";
import { type Command, EXIT_USAGE, flag, num, str, UsageError } from "../args.ts";
import { waitForSignal } from "../signals.ts";

/** Reads and parses a host config file; a mistake is reported with the path and the field. */
export function loadHostConfig(path: string | undefined): HostConfig {
  if (path === undefined) return parseHostConfig({}, ACTOR_KINDS);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError("", `Cannot read config file ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError("", `Config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseHostConfig(raw, ACTOR_KINDS);
}

export const command: Command = {
  name: "run",
  summary: "an actor host, from a JSON config file",
  usage: "[--config FILE] [--nats URL] [--partitions LIST] [--http-port N] [--accept-journal-loss]",
  options: {
    config: {
      type: "string",
      arg: "FILE",
      help: "Host configuration (JSON); defaults when absent",
    },
    nats: { type: "string", arg: "URL", help: 'NATS server URL (overrides the file\'s "nats")' },
    partitions: {
      type: "string",
      arg: "LIST",
      help: 'Partitions this host owns, e.g. "0-3,7" or "all" (overrides the file)',
    },
    "http-port": { type: "string", arg: "N", help: "Serve /healthz and /metrics on this port" },
    "data-dir": { type: "string", arg: "DIR", help: "Journal and snapshots directory" },
    "accept-journal-loss": {
      type: "boolean",
      help: "Start even where the journal lost inputs the input cannot give back (named)",
    },
  },
  details: `Config file fields (all optional):
  host_id, nats, data_dir, input ("core" | "jetstream"),
  accept_journal_loss, partitions { count, owned }, journal { kind: "file" | "jetstream" | "memory", fsync: "always" |
  "interval" | "never", fsync_interval_ms }, snapshots { store: "file" | "kv" | "memory",
  every_inputs, every_ms }, http_port, output_msg_id, limits { frame_bytes_max, samples_per_frame_max,
  channels_max, mailbox_max }, actors { <kind>: { enabled, ...kind's options } }.
Every kind runs unless its section says "enabled": false.
Example: { "nats": "nats://127.0.0.1:4222", "actors": { "stats": { "every_samples": 500 },
  "coherence": { "enabled": false } } }`,
  async run(args) {
    let config: HostConfig;
    try {
      config = loadHostConfig(str(args, "config"));
    } catch (err) {
      if (err instanceof ConfigError) {
        const where = str(args, "config");
        console.error(`troupe run: ${where ? `${where}: ` : ""}${err.message}`);
        return EXIT_USAGE;
      }
      throw err;
    }
    const nats = str(args, "nats");
    if (nats !== undefined) config.nats = nats;
    const dataDir = str(args, "data-dir");
    if (dataDir !== undefined) config.data_dir = dataDir;
    const parts = str(args, "partitions");
    if (parts !== undefined) {
      try {
        config.partitions.owned = parsePartitions(parts, config.partitions.count);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    }
    if (str(args, "http-port") !== undefined) {
      config.http_port = num(args, "http-port", 0, { min: 0, max: 65535, integer: true });
    }
    if (flag(args, "accept-journal-loss")) config.accept_journal_loss = true;
    let launched;
    try {
      launched = await launchHost(config, ACTOR_KINDS);
    } catch (err) {
      if (!(err instanceof JournalLossError)) throw err;
      console.error(`troupe run: ${err.message}`);
      return 1;
    }
    const port = launched.host.httpPort;
    const off = Object.keys(ACTOR_KINDS).filter((k) => !(k in config.actors));
    console.log(
      `troupe run: host ${config.host_id} running ${Object.keys(config.actors).join(", ")}${
        off.length ? ` (off: ${off.join(", ")})` : ""
      } on ${config.nats ?? "the in-process bus"}, partitions ${
        config.partitions.owned.join(",")
      } of ${config.partitions.count}` +
        (port ? `; http://127.0.0.1:${port}/metrics` : ""),
    );
    const signal = await waitForSignal();
    console.error(`troupe run: ${signal}: draining and stopping`);
    await launched.close();
    process.exitCode = 0;
    return 0;
  },
};
