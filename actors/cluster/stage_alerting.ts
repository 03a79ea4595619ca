/**
 * The alert sender started beside the cluster's incident stage wherever a live command runs it
 * (`troupe up`, `troupe run`'s partition-0 host, a leased stage's holder), from the host
 * configuration's `alerting` section: with no Alertmanager and no webhook, nothing starts. Its
 * outboxes go to the stage's snapshot store, so they outlive a restart (and, leased, move with the
 * stage). `troupe replay` and `troupe sim` never call it.
 */
import {
  type AlertingConfig,
  alertingEnabled,
  parseAlertingConfig,
  runAlerting,
} from "../alerting/mod.ts";
import {
  defaultIncidentConfig,
  type IncidentStage,
  parseIncidentConfig,
} from "../incidents/mod.ts";
import { openChannelLabels } from "../ingest/mod.ts";
import type { HostConfig, SnapshotStore } from "../runtime/mod.ts";
import type { Bus } from "../../protocol/mod.ts";
import type { Registry } from "prom-client";

/** The `alerting` section checked; a ConfigError names `alerting.<field>` and the value. */
export function alertingConfigOf(config: HostConfig): AlertingConfig {
  return parseAlertingConfig(config.alerting, "alerting");
}

/** A running sender: a line saying where it sends, and how to stop it. */
export interface StageAlerting {
  line: string;
  close(): Promise<void>;
  /** Stops at once, saving nothing (a leased stage's lease is lost). */
  abandon(): Promise<void>;
}

/** Starts the sender for `stage` when anything is configured to receive alerts. */
export async function startStageAlerting(
  bus: Bus,
  stage: IncidentStage,
  options: {
    config: HostConfig;
    store?: SnapshotStore;
    registry: Registry;
    log: (message: string) => void;
    /** Where the channels' source labels are read (default `bus`; a fenced bus wraps NATS). */
    labelsBus?: Bus;
  },
): Promise<StageAlerting | undefined> {
  const alerting = alertingConfigOf(options.config);
  if (!alertingEnabled(alerting)) return undefined;
  // The source labels the metrics receivers wrote for their channels (job, instance, ...).
  const labels = await openChannelLabels(options.labelsBus ?? bus, { read: true });
  let run;
  try {
    run = await runAlerting(bus, {
      config: alerting,
      stage,
      registry: options.registry,
      log: options.log,
      ...(options.store ? { store: options.store } : {}),
      // The budget weighs a group's findings over the window the stage groups them in.
      groupWindowUs:
        parseIncidentConfig(options.config.incidents, defaultIncidentConfig, "incidents")
          .group_window_us,
      sourceLabels: (channel) => {
        const l = labels.get(channel);
        return l && Object.fromEntries(l.map((x) => [x.name, x.value]));
      },
      askLabels: (channels) => labels.ask(channels),
    });
  } catch (err) {
    await labels.close();
    throw err;
  }
  const names = run.sender.targets().map((t) => `${t.kind} ${t.name}`);
  const running = run;
  // Labels written as a channel was admitted may reach this reader after the channel's first
  // finding: its open incidents' alerts are built again with them.
  labels.onLabels((channel) => running.sender.labelsCame(channel));
  return {
    line: `alerts go to ${names.join(", ")}`,
    close: () => running.stop().finally(() => labels.close()),
    abandon: () => running.abandon().finally(() => labels.close()),
  };
}
