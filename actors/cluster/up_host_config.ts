/**
 * The configuration of troupe up's first host (its --hosts derive theirs from it: up_cluster.ts):
 * where it keeps its journal and snapshots, how it reads its input, its HTTP port, the kinds and
 * their settings that suit up's feed (no kind for markets on service metrics), its limits and its
 * alerting.
 */
import { join } from "node:path";
import {
  channelsMaxFor,
  DEFAULT_PROGRESS,
  defaultHostConfig,
  type HostConfig,
  type NatsServer,
  runsOnMetricsHost,
} from "../runtime/mod.ts";
import type { HostKinds } from "./kinds/mod.ts";

/** What of troupe up's options its host's configuration is made from. */
export interface UpHostSettings {
  dataDir: string;
  journal: "file" | "jetstream";
  httpPort: number;
  /** The kinds the host runs: each gets its settings from `actorSettings`, or its defaults. */
  kinds: HostKinds;
  feedKind: "market" | "metrics" | "remote-write";
  /** The synthetic feed's channels: every one is admitted. */
  channels: number;
  /** The settings that suit up's feed, by kind (sim/demo.ts's, said when the feed starts). */
  actorSettings: Record<string, Record<string, unknown>>;
  acceptJournalLoss: boolean;
  alertmanagers: string[];
  /** The dashboard's port, when one is given: alerts link to it. */
  collabPort: number | undefined;
}

/** Where up's host runs: on up's nats-server (or the in-process bus), on `threads` threads. */
export interface UpHostPlace {
  nats: NatsServer | undefined;
  threads: number;
}

/** The first host's configuration (--hosts derive theirs); on threads, a partition each. */
export function upHostConfig(o: UpHostSettings, place: UpHostPlace): HostConfig {
  const { nats, threads } = place;
  const config = defaultHostConfig();
  config.host_id = "up-1";
  config.data_dir = join(o.dataDir, "up-1");
  config.nats = nats?.url;
  // Threads' edge is a core subscription: up's feed starts after the host and stops before it.
  config.input = nats && threads === 1 ? "jetstream" : "core";
  if (threads > 1) config.partitions = { count: threads, owned: [...Array(threads).keys()] };
  config.journal.kind = o.journal;
  config.http_port = o.httpPort;
  // A feed of service metrics runs no kind for markets (bars) but where up's settings name it.
  const metrics = o.feedKind !== "market";
  config.actors = Object.fromEntries(
    Object.entries(o.kinds.registry)
      .filter(([k, def]) => !metrics || k in o.actorSettings || runsOnMetricsHost(def))
      .map(([k]) => [k, o.actorSettings[k] ?? {}]),
  );
  config.accept_journal_loss = o.acceptJournalLoss;
  // The synthetic feeds' event time runs faster than the clock: no wall-clock bound on it.
  if (o.feedKind !== "remote-write") config.progress = { ...DEFAULT_PROGRESS, ahead_ms: 0 };
  // The kinds' channels the budget holds, and every channel of the synthetic feed, however many
  // are asked for.
  const fitting = channelsMaxFor(config.limits.memory_budget_mb, config.actors, o.kinds.registry);
  config.limits.channels_max = Math.max(fitting, o.channels);
  if (o.alertmanagers.length > 0) {
    config.alerting = {
      alertmanagers: o.alertmanagers,
      // generatorURL opens the dashboard where it is sure to listen: on a port given.
      ...(o.collabPort ? { dashboard_url: `http://127.0.0.1:${o.collabPort}` } : {}),
    };
  }
  return config;
}
