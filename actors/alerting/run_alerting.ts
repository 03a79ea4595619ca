/**
 * The alert sender run beside the cluster's incident stage, wherever the stage runs (`troupe up`,
 * the host of `troupe run` that owns partition 0, the holder of a leased stage's lease): it starts
 * with the stage's whole list, takes each update the stage publishes, takes acknowledgements from
 * the stage's control subject (a copy: the stage answers them), and answers
 * `troupe.req.alerts.status` with where each incident stands with each target. Only live hosts call
 * it: a replay and the simulator run stages of their own and never send.
 */
import {
  alertDeliverySubject,
  type Bus,
  type BusSubscription,
  decodeIncidentControl,
  encodeAlertDelivery,
  type Incident,
  incidentControlSubject,
} from "../../protocol/mod.ts";
import type { SnapshotStore } from "../runtime/mod.ts";
import type { Registry } from "prom-client";
import type { AlertingConfig } from "./alerting_config.ts";
import { registerAlertMetrics } from "./alert_metrics.ts";
import { AlertSender, type AlertSenderOptions } from "./alert_sender.ts";
import { registerPageMetrics } from "./page_metrics.ts";
import { SampleCensus } from "./sample_census.ts";

/** The incident stage as the sender sees it (actors/incidents' IncidentStage). */
export interface AlertedStage {
  /** Its incidents now. */
  list(): readonly Incident[];
  /** Hands over each update it makes from now on; returns what stops it. */
  watch(watcher: (incident: Incident) => void): () => void;
}

/** What running the sender needs. */
export interface RunAlertingOptions {
  config: AlertingConfig;
  /** The stage it sends for, running in this process. */
  stage: AlertedStage;
  store?: SnapshotStore;
  registry?: Registry;
  log: (message: string) => void;
  sourceLabels?: AlertSenderOptions["sourceLabels"];
  askLabels?: AlertSenderOptions["askLabels"];
  /** The incident stage's grouping window, µs (the page budget's window). */
  groupWindowUs?: number;
}

/** A running sender. */
export interface RunningAlerting {
  sender: AlertSender;
  /** Stops sending and saves its outboxes. */
  stop(): Promise<void>;
  /** Stops sending at once, saving nothing (the stage's lease is lost: another host may send). */
  abandon(): Promise<void>;
}

/** The census the budget counts over: as measured, or at a fixed `samples_per_day` when set. */
function budgetCensus(
  census: SampleCensus,
  samples_per_day: number,
): () => ReturnType<SampleCensus["census"]> {
  if (samples_per_day <= 0) return () => census.census();
  return () => ({ channels: census.census()?.channels ?? 1, samples_per_day });
}

/** Starts the sender on `bus`. */
export async function runAlerting(bus: Bus, options: RunAlertingOptions): Promise<RunningAlerting> {
  // Counted whatever `samples_per_day` says: the threshold's metric shows the measured one too.
  const census = new SampleCensus().watch(bus);
  const paging = options.config.paging;
  const sender = new AlertSender(options.config, {
    log: options.log,
    census: budgetCensus(census, paging.samples_per_day),
    ...(options.groupWindowUs !== undefined ? { groupWindowUs: options.groupWindowUs } : {}),
    ...(options.store ? { store: options.store } : {}),
    ...(options.sourceLabels ? { sourceLabels: options.sourceLabels } : {}),
    ...(options.askLabels ? { askLabels: options.askLabels } : {}),
  });
  const subs: BusSubscription[] = [];
  // Updates published while it restores are taken after: the comparison is by state, not order.
  const early: Incident[] = [];
  let started = false;
  const take = (i: Incident) => {
    if (started) return sender.observe(i);
    early.push(i);
    if (early.length > options.config.owed_max) early.shift();
  };
  const unwatch = options.stage.watch(take);
  subs.push(bus.subscribe(incidentControlSubject(), (m) => {
    try {
      const { envelope, control } = decodeIncidentControl(m.data);
      if (control.type === "ack") {
        sender.ack(control.incident, {
          // The dashboard's user name when the ack came with one; else only the session is known.
          by: control.by ?? `session ${control.session}`,
          at_ms: envelope.ts / 1000,
        });
      }
    } catch {
      // The stage answers a malformed control message with the reason.
    }
  }));
  let answers = 0;
  subs.push(bus.subscribe(alertDeliverySubject(), (m) => {
    if (!m.reply) return;
    const meta = { id: `alerts:status:${++answers}`, src: "alerts", ts: Date.now() * 1000 };
    bus.publish(m.reply, encodeAlertDelivery(meta, sender.delivery()));
  }));
  await sender.start(options.stage.list());
  started = true;
  for (const i of early.splice(0)) sender.observe(i);
  const unregisterAlerts = options.registry
    ? registerAlertMetrics(options.registry, sender)
    : () => {};
  const unregisterPages = options.registry
    ? registerPageMetrics(options.registry, { paging, census: () => sender.census() })
    : () => {};
  const unregister = () => {
    census.stop();
    unregisterAlerts();
    unregisterPages();
  };
  return {
    sender,
    async stop() {
      unwatch();
      for (const s of subs) s.unsubscribe();
      await sender.stop();
      unregister();
    },
    async abandon() {
      unwatch();
      for (const s of subs) s.unsubscribe();
      await sender.stop({ save: false });
      unregister();
    },
  };
}
