/**
 * `troupe up`'s options: the table its help is made from, and their reading into `UpOptions`,
 * checked (a bad one is a usage error naming it and its value).
 */
import { kindsOption } from "./kinds_option.ts";
import type { HostKinds, UpReceiverSettings } from "../actors/cluster/mod.ts";
import { parseAlertingConfig } from "../actors/alerting/mod.ts";
import { type Command, duration, flag, num, optNum, str, text, UsageError } from "./args.ts";
import { COLLAB_PORT } from "../collab/mod.ts";
import { DATA_DIR_DEFAULT } from "../actors/cluster/data_dir/mod.ts";
import { UP_RECEIVER_OPTIONS, upReceiverSettings } from "./up_receiver.ts";
import { portOr } from "../actors/cluster/mod.ts";
import { demoActorConfigs, metricsActorConfigs } from "../sim/mod.ts";

/** The hosts' HTTP port when it is free (host_url.ts's HTTP_URL_DEFAULT). */
const HTTP_PORT = 9464;

/** The options `troupe up` takes. */
export const UP_OPTIONS: Command["options"] = {
  feed: {
    type: "string",
    arg: "NAME",
    help: "market: the synthetic market, with demo settings; metrics: the service metrics " +
      "feed (a sample a minute of event time), with the settings for service metrics; " +
      "remote-write: no synthetic feed, the metrics receiver on port 9201 (or a free one) " +
      "for your Prometheus's remote write or an OpenTelemetry Collector, asking a bearer " +
      "token (docs/prometheus.md)",
    default: "market",
    oneOf: ["market", "metrics", "remote-write"],
  },
  channels: {
    type: "string",
    arg: "N",
    help: "Symbols of the synthetic market feed, or series of the metrics feed",
    default: 8,
    number: { min: 1, max: 10_000, integer: true },
  },
  rate: {
    type: "string",
    arg: "N",
    help: "Samples per second over all channels",
    default: 2000,
    number: { min: 0, exclusiveMin: true },
  },
  duration: {
    type: "string",
    arg: "S",
    help: "Stop after S seconds, or 30s, 5m, 1h",
    default: 0,
    defaultText: "until Ctrl-C",
  },
  seed: {
    type: "string",
    arg: "N",
    help: "Seed of the synthetic feed",
    default: 1,
    number: { integer: true },
  },
  "data-dir": {
    type: "string",
    arg: "DIR",
    help: "Journals, snapshots, NATS store",
    default: DATA_DIR_DEFAULT,
  },
  "http-port": {
    type: "string",
    arg: "N",
    help: "Port of /healthz, /metrics and the scans; 0: a free one",
    defaultText: `${HTTP_PORT}, or a free one when it is taken`,
    number: { min: 0, max: 65535, integer: true },
  },
  "collab-port": {
    type: "string",
    arg: "N",
    help: "Port of the collaboration server and the dashboard; 0: a free one",
    defaultText: `${COLLAB_PORT}, or a free one when it is taken`,
    number: { min: 0, max: 65535, integer: true },
  },
  "no-nats": {
    type: "boolean",
    help: "Use the in-process bus even when nats-server is installed",
  },
  "nats-port": {
    type: "string",
    arg: "N",
    help: "Port of the nats-server troupe up starts; 0: a free one",
    defaultText: "4222, or a free one when it is taken",
    number: { min: 0, max: 65535, integer: true },
  },
  "nats-open": {
    type: "boolean",
    help: "Start nats-server without users, for a quick local try: anyone who reaches it may " +
      "publish anything, incident control included",
    defaultText: "a user per role with its own nkey, seeds in DATA_DIR/nats-auth (mode 0600)",
  },
  journal: {
    type: "string",
    arg: "KIND",
    help: "file (in the data directory) or jetstream (in NATS, for the host and the " +
      "collaboration server's documents; needs nats-server)",
    defaultText: "file; jetstream with --hosts 2 or more",
    oneOf: ["file", "jetstream"],
  },
  hosts: {
    type: "string",
    arg: "N",
    help: "Run N hosts (2 or more) that share the partitions by lease, as troupe run " +
      "--partitions auto does (journal in JetStream, snapshots in the KV store; needs " +
      "nats-server); troupe status says who owns what; 1: one host owns them all",
    default: 1,
    number: { min: 1, max: 64, integer: true },
  },
  threads: {
    type: "string",
    arg: "N",
    help: "Run the host's partitions on N worker threads, as troupe run --threads N (a " +
      "partition a thread; needs nats-server and --journal file)",
    defaultText: "the machine's cores less one, at least one, or what the data directory " +
      "was written by; 1 with --hosts, --journal jetstream or without nats-server",
    number: { min: 1, max: 64, integer: true },
  },
  kinds: {
    type: "string",
    arg: "MODULES",
    help: "Modules of your own kinds (paths or packages, comma-separated), run beside troupe's own",
    defaultText: "troupe's own kinds only",
  },
  record: {
    type: "string",
    arg: "FILE",
    help: "Record the session from its start into FILE; replay it with troupe replay FILE " +
      "--verify",
    defaultText: "no recording",
  },
  alertmanager: {
    type: "string",
    arg: "URL",
    multiple: true,
    help: "Post every incident to this Prometheus Alertmanager (repeatable: each of an HA " +
      "pair gets every alert); docs/alerting.md",
    defaultText: "none",
  },
  "accept-journal-loss": {
    type: "boolean",
    help: "Start even where the journal lost inputs the input cannot give back (named)",
  },
  ...UP_RECEIVER_OPTIONS,
};

/** troupe up's options, checked. */
export interface UpOptions {
  /** The kinds the hosts run: troupe's own and those of --kinds. */
  kinds: HostKinds;
  feedKind: "market" | "metrics" | "remote-write";
  channels: number;
  rate: number;
  durationS: number;
  seed: number;
  dataDir: string;
  httpPort: number;
  collabPort: number | undefined;
  /** --alertmanager, checked. */
  alertmanagers: string[];
  hosts: number;
  threads: number | undefined;
  journal: "file" | "jetstream";
  noNats: boolean;
  /** --nats-port (0: a free one); NATS's own port, or a free one, when absent. */
  natsPort: number | undefined;
  natsOpen: boolean;
  recordPath: string | undefined;
  acceptJournalLoss: boolean;
  /** The feed's step per channel, for the demo's settings. */
  intervalUs: number;
  /** The settings that suit the feed, by kind: the demo's, or service metrics'. */
  actorSettings: Record<string, Record<string, unknown>>;
  /** --remote-write-port, --match, --token and --history-url, checked. */
  receiver: UpReceiverSettings;
}

/** Reads and checks the options; a bad one is a UsageError naming it and its value. */
export async function upOptions(args: Parameters<Command["run"]>[0]): Promise<UpOptions> {
  const feedKind = text(args, "feed") as UpOptions["feedKind"];
  const channels = num(args, "channels");
  const rate = num(args, "rate");
  const intervalUs = Math.max(1, Math.round((channels * 1e6) / rate));
  const hosts = num(args, "hosts");
  const journal = (str(args, "journal") ?? (hosts > 1 ? "jetstream" : "file")) as
    | "file"
    | "jetstream";
  if (hosts > 1 && journal !== "jetstream") {
    throw new UsageError(
      `Option --hosts ${hosts} shares the partitions by lease, which needs --journal ` +
        `jetstream (every host reads the others' journals), got "${journal}"`,
    );
  }
  const noNats = flag(args, "no-nats");
  const threads = optNum(args, "threads");
  const why = threadsRefused(threads, { hosts, journal, noNats });
  if (why !== undefined) throw new UsageError(`Option --threads ${threads}: ${why}`);
  if (journal === "jetstream" && noNats) {
    throw new UsageError(
      `Option ${
        hosts > 1 ? `--hosts ${hosts}` : "--journal jetstream"
      } needs NATS: it cannot go with --no-nats`,
    );
  }
  return {
    kinds: await kindsOption(str(args, "kinds")),
    feedKind,
    channels,
    rate,
    durationS: duration(args, "duration"),
    seed: num(args, "seed"),
    dataDir: text(args, "data-dir"),
    httpPort: optNum(args, "http-port") ?? await portOr(HTTP_PORT),
    collabPort: optNum(args, "collab-port"),
    hosts,
    threads,
    journal,
    noNats,
    natsPort: optNum(args, "nats-port"),
    natsOpen: flag(args, "nats-open"),
    recordPath: str(args, "record"),
    acceptJournalLoss: flag(args, "accept-journal-loss"),
    alertmanagers: alertmanagerUrls(args.values.alertmanager),
    intervalUs,
    // Settings that suit a demo of the synthetic market, or service metrics (sim/demo.ts), said
    // in one line when the feed starts.
    actorSettings: feedKind === "market" ? demoActorConfigs(intervalUs) : metricsActorConfigs(),
    receiver: upReceiverSettings(args, feedKind),
  };
}

/** --alertmanager's URLs, each checked (a bad one is a usage error naming it). */
function alertmanagerUrls(raw: unknown): string[] {
  const urls = raw === undefined ? [] : Array.isArray(raw) ? raw.map(String) : [String(raw)];
  try {
    return parseAlertingConfig({ alertmanagers: urls }).alertmanagers;
  } catch (err) {
    throw new UsageError(
      `Option --alertmanager: ${(err as Error).message.replace(/^Field "alerting\./, '"')}`,
    );
  }
}

/** Why `troupe up --threads N` cannot go with the other options, or undefined when it can. */
export function threadsRefused(
  threads: number | undefined,
  o: { hosts: number; journal: "file" | "jetstream"; noNats: boolean },
): string | undefined {
  if (threads === undefined || threads === 1) return undefined;
  if (o.hosts > 1) {
    return `it cannot go with --hosts ${o.hosts} (leased hosts hold their partitions a host each)`;
  }
  if (o.journal === "jetstream") {
    return `a thread keeps its journal in a directory of its own: it needs --journal file, got ` +
      `"jetstream"`;
  }
  if (o.noNats) return "its threads connect to NATS: it cannot go with --no-nats";
  return undefined;
}
