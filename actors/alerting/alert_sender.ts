/**
 * The alert sender: the incidents of the cluster's stage posted to every configured Alertmanager
 * (`POST /api/v2/alerts`) and webhook (Alertmanager's webhook body). It is fed the stage's whole
 * list when it starts and each update after, and compares them with its outbox per target
 * (alert_outbox.ts), so what a target is owed is the true state, not a log of steps. The outboxes
 * are saved to a snapshot store (the stage's: a file beside its journal, or the cluster's KV store
 * for a leased stage), so a restart or a takeover resumes what was owed; anything the save missed
 * is found again by the comparison with the refolded stage. A request that fails for a reason that
 * may pass (a 5xx, a 429, a timeout, a refused connection) is retried with a doubling, jittered
 * wait; a 4xx other than 429 is logged once and counted, and that state is not sent again.
 * Requests have a timeout and one runs per target at a time, so a target that never answers holds
 * nothing but its own bounded outbox.
 */
import {
  type AlertDeliveryState,
  type AlertTargetDelivery,
  buildWebhookPayload,
  encodePostableAlerts,
  type Incident,
  type PostableAlert,
} from "../../protocol/mod.ts";
import type { SnapshotStore } from "../runtime/mod.ts";
import type { AlertingConfig } from "./alerting_config.ts";
import type { AlertAck } from "./alert_of_incident.ts";
import { incidentAlerts, incidentIdOfKey } from "./incident_alerts.ts";
import type { Census } from "./page_budget.ts";
import { isContextKind } from "./paging_config.ts";
import {
  AlertOutbox,
  ended,
  type OwedAlert,
  type SavedOutbox,
  type SentAlert,
  type TargetKind,
} from "./alert_outbox.ts";

/** The snapshot store's key of the outboxes. */
export const ALERTS_OWED_STREAM = "alerts-owed";
/** The saved outboxes' format. */
export const ALERTS_OWED_VERSION = 1;
/**
 * Incidents one Alertmanager post carries, at most (with their retired label sets, at most
 * 16 × (1 + RETIRED_MAX) alerts, within what a post may hold).
 */
export const INCIDENTS_PER_REQUEST_MAX = 16;
/** Characters of a refusal's reason kept, at most. */
export const REFUSAL_CHARS_MAX = 300;
/** The longest a sender waits between looks at its outbox (a due time may come from a restore). */
const IDLE_MS_MAX = 1_000;
/** Acknowledgements kept, at most. */
const ACKS_MAX = 4096;
/**
 * The longest an alert waits for its channels' labels to be looked up, ms: one request to the
 * labels' store, which answers in milliseconds; a store that slow is failing, and the alert goes
 * without them (built again when they come).
 */
export const LABELS_ASK_MS_MAX = 2_000;
/** Channels whose labels were asked for, remembered at most (each is asked once). */
const ASKED_MAX = 100_000;

/** Counts of one target since the sender started. */
export interface TargetCounts {
  sent: number;
  failed: number;
  retried: number;
  dropped: number;
}

/** One target: where, how, its outbox and counts. */
interface Target {
  kind: TargetKind;
  url: string;
  /** The URL without credentials (the name metrics and logs use). */
  name: string;
  headers: Record<string, string>;
  outbox: AlertOutbox;
  counts: TargetCounts;
  wake?: (() => void) | undefined;
}

/** What a sender is given. */
export interface AlertSenderOptions {
  /** Where the outboxes are saved (absent: kept in memory only). */
  store?: SnapshotStore;
  /** Says what went wrong (a refusal, a failed save). */
  log: (message: string) => void;
  /** The labels a channel came with from Prometheus, when it did. */
  sourceLabels?: (channel: string) => Readonly<Record<string, string>> | undefined;
  /**
   * Looks `channels`' labels up where they are kept (`sourceLabels` knows those found): a
   * channel's first alert waits for the answer (at most LABELS_ASK_MS_MAX) rather than going
   * without them.
   */
  askLabels?: (channels: readonly string[]) => Promise<void>;
  /** The wall clock (ms); tests and benchmarks may pass their own. */
  now?: () => number;
  /** What the cluster watches now, for the page budget (sample_census.ts); none: unknown. */
  census?: () => Census | undefined;
  /** The incident stage's grouping window, µs (default 60 s, the stage's default). */
  groupWindowUs?: number;
}

/** The grouping window assumed when none is given, µs: the incident stage's default. */
const GROUP_WINDOW_US_DEFAULT = 60_000_000;

/** Sends incidents to the configured targets. */
export class AlertSender {
  readonly #config: AlertingConfig;
  readonly #options: AlertSenderOptions;
  readonly #targets: Target[];
  readonly #acks = new Map<string, AlertAck>();
  readonly #incidents = new Map<string, Incident>();
  /** Keys of alerts sent as pages: a page stays one until its incident resolves. */
  readonly #paged = new Set<string>();
  /** Channels whose labels were unknown when an open incident's alerts were built: its ids. */
  readonly #unlabelled = new Map<string, Set<string>>();
  /** Channels whose labels were asked for (oldest first): none is asked for twice. */
  readonly #asked = new Set<string>();
  /** Incidents whose alerts wait for their channels' labels to be looked up. */
  readonly #held = new Set<string>();
  #running = false;
  #dirty = false;
  #saving: Promise<void> | undefined;
  #loops: Promise<void>[] = [];

  constructor(config: AlertingConfig, options: AlertSenderOptions) {
    this.#config = config;
    this.#options = { ...options };
    const box = (kind: TargetKind) =>
      new AlertOutbox({
        kind,
        resend_ms: config.resend_ms,
        resolved_resend_ms: config.resolved_resend_ms,
        retry_ms_max: config.retry_ms_max,
        owed_max: config.owed_max,
        unseen_hold_ms: config.unseen_hold_ms,
      });
    const zero = (): TargetCounts => ({ sent: 0, failed: 0, retried: 0, dropped: 0 });
    this.#targets = [
      ...config.alertmanagers.map((url) => ({
        kind: "alertmanager" as const,
        url,
        name: publicUrl(url),
        headers: {},
        outbox: box("alertmanager"),
        counts: zero(),
      })),
      ...config.webhooks.map((w) => ({
        kind: "webhook" as const,
        url: w.url,
        name: publicUrl(w.url),
        headers: w.headers,
        outbox: box("webhook"),
        counts: zero(),
      })),
    ];
  }

  /** The targets' names (URLs without credentials) and kinds. */
  targets(): { name: string; kind: TargetKind }[] {
    return this.#targets.map((t) => ({ name: t.name, kind: t.kind }));
  }

  /**
   * Restores the saved outboxes, compares them with `incidents` (the stage's whole list) and
   * starts sending. An alert still firing at a target for an incident troupe no longer holds open
   * is ended.
   */
  async start(incidents: readonly Incident[]): Promise<void> {
    const now = this.#now();
    const saved = await this.#options.store?.load(ALERTS_OWED_STREAM);
    if (saved?.version === ALERTS_OWED_VERSION) {
      try {
        const state = JSON.parse(new TextDecoder().decode(saved.kernel)) as SavedSenderState;
        for (const [id, ack] of state.acks) this.#acks.set(id, ack);
        for (const t of this.#targets) {
          const box = state.targets.find((s) => s.name === t.name && s.kind === t.kind);
          if (box) t.outbox.restore(box.outbox, now);
        }
      } catch (err) {
        this.#options.log(
          `the saved alert outboxes cannot be read (${(err as Error).message}); ` +
            `rebuilding them from the incidents`,
        );
      }
    }
    for (const i of incidents) this.#incidents.set(i.id, i);
    for (const t of this.#targets) {
      for (const e of [...t.outbox.entries()]) {
        if (e.alert.labels.page !== "false" && e.alert.endsAt === undefined) this.#paged.add(e.id);
        const i = this.#incidents.get(incidentIdOfKey(e.id));
        if (!i || (i.state !== "firing" && i.state !== "resolved")) t.outbox.end(e.id, now);
      }
    }
    for (const i of incidents) this.#want(i, now);
    this.#running = true;
    this.#dirty = true;
    this.#loops = this.#targets.map((t) => this.#loop(t));
  }

  /** An incident update (from the stage): owed to each target when its alert changed. */
  observe(incident: Incident): void {
    this.#incidents.set(incident.id, incident);
    if (this.#incidents.size > this.#config.owed_max) {
      this.#incidents.delete(this.#incidents.keys().next().value!);
    }
    const now = this.#now();
    this.#want(incident, now);
    // Context that came after a page (a change point confirmed samples after its change) is
    // named on the pages it may belong to: their alerts are built again (sent only if changed).
    if (isContextKind(incident.kind, this.#config.paging)) {
      const ids = new Set([...this.#paged].map(incidentIdOfKey));
      for (const id of ids) {
        const paged = this.#incidents.get(id);
        if (paged && paged.state !== "resolved") this.#want(paged, now);
      }
    }
  }

  /**
   * `channel`'s source labels came (the receiver writes them as it admits the channel; a finding
   * can be faster than the watch that brings them here): the open incidents whose alerts were
   * built without them are built again, so their alerts carry `job` and `instance`.
   */
  labelsCame(channel: string): void {
    const ids = this.#unlabelled.get(channel);
    if (!ids) return;
    this.#unlabelled.delete(channel);
    const now = this.#now();
    for (const id of ids) {
      const i = this.#incidents.get(id);
      if (i && i.state !== "resolved") this.#want(i, now);
    }
  }

  /** An incident was acknowledged: its alert is updated (an annotation), not resolved. */
  ack(id: string, ack: AlertAck): void {
    this.#acks.set(id, ack);
    if (this.#acks.size > ACKS_MAX) this.#acks.delete(this.#acks.keys().next().value!);
    const i = this.#incidents.get(id);
    if (i) this.#want(i, this.#now());
  }

  /**
   * Per target, where each incident it holds stands: an incident of several alerts (one per label
   * group) stands where the least settled of them does (owed, refused, sent, silenced).
   */
  delivery(): AlertTargetDelivery[] {
    return this.#targets.map((t) => {
      const incidents: Record<string, AlertDeliveryState> = {};
      for (const e of t.outbox.entries()) {
        const id = incidentIdOfKey(e.id), state = stateOf(e);
        const had = incidents[id];
        if (had === undefined || SETTLED.indexOf(state) < SETTLED.indexOf(had)) {
          incidents[id] = state;
        }
      }
      return { target: t.name, kind: t.kind, incidents };
    });
  }

  /** What the cluster watches now, as the page budget counts it (undefined: unknown). */
  census(): Census | undefined {
    return this.#options.census?.();
  }

  /** Per target name, its counts and its outbox's size. */
  counts(): { name: string; counts: TargetCounts; owed: number }[] {
    return this.#targets.map((t) => ({
      name: t.name,
      counts: { ...t.counts, dropped: t.outbox.dropped },
      owed: [...t.outbox.entries()].filter((e) => !e.delivered && e.refused === undefined).length,
    }));
  }

  /** Whether every target holds every alert's latest state. */
  settled(): boolean {
    return this.counts().every((c) => c.owed === 0);
  }

  /** Stops sending and saves the outboxes (unless `save` is false: another holder may write). */
  async stop(options: { save?: boolean } = {}): Promise<void> {
    this.#running = false;
    for (const t of this.#targets) t.wake?.();
    await Promise.all(this.#loops);
    if (options.save === false) {
      delete this.#options.store;
      return;
    }
    this.#dirty = true;
    await this.#save();
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  #want(i: Incident, now: number): void {
    // Pending incidents are not sure yet; one that resolved without firing was never an alert.
    if (!i.fired || this.#held.has(i.id)) return;
    const ack = this.#acks.get(i.id);
    const source = this.#options.sourceLabels;
    const unknown: string[] = [];
    const labelsOf = (c: string) => this.#labelsOf(source!, c, i, unknown);
    const alerts = incidentAlerts(i, {
      dashboardUrl: this.#config.dashboard_url,
      session: this.#config.session,
      ...(ack ? { ack } : {}),
      ...(source ? { sourceLabels: labelsOf } : {}),
      paging: this.#config.paging,
      census: this.#options.census?.(),
      windowS: (this.#options.groupWindowUs ?? GROUP_WINDOW_US_DEFAULT) / 1e6,
      others: this.#incidents.values(),
      paged: (key) => this.#paged.has(key),
    });
    if (this.#holdForLabels(i, unknown)) return;
    const keys = new Set<string>();
    for (const { key, alert, page } of alerts) {
      keys.add(key);
      if (page && alert.endsAt === undefined) this.#paged.add(key);
      else if (alert.endsAt !== undefined) this.#paged.delete(key);
      for (const t of this.#targets) {
        if (t.outbox.want(key, alert, i.silenced, now)) {
          this.#dirty = true;
          t.wake?.();
        }
      }
    }
    // An alert of this incident it no longer makes (its members' labels came later and regrouped
    // them) ends, so no target keeps it firing.
    for (const t of this.#targets) {
      for (const e of [...t.outbox.entries()]) {
        if (keys.has(e.id) || incidentIdOfKey(e.id) !== i.id || e.alert.endsAt !== undefined) {
          continue;
        }
        this.#paged.delete(e.id);
        if (t.outbox.want(e.id, ended(e.alert, now), i.silenced, now)) {
          this.#dirty = true;
          t.wake?.();
        }
      }
    }
  }

  /**
   * Whether `i`'s alerts wait for its channels' labels: some of `unknown` were never asked for
   * (the watch that brings labels can lag a channel's first finding, and a page sent without
   * `job` and `instance` reaches on-call again once they come). The alerts are built again when
   * the answer comes or LABELS_ASK_MS_MAX passes. A channel without labels (an injected feed)
   * costs one lookup for its first incident, none after.
   */
  #holdForLabels(i: Incident, unknown: readonly string[]): boolean {
    const ask = this.#options.askLabels;
    const fresh = [...new Set(unknown)].filter((c) => !this.#asked.has(c));
    if (ask === undefined || fresh.length === 0 || i.state === "resolved") return false;
    for (const c of fresh) {
      this.#asked.add(c);
      if (this.#asked.size > ASKED_MAX) this.#asked.delete(this.#asked.values().next().value!);
    }
    this.#held.add(i.id);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, LABELS_ASK_MS_MAX)));
    void Promise.race([ask(fresh).catch(() => {}), late]).finally(() => {
      clearTimeout(timer);
      this.#held.delete(i.id);
      const latest = this.#incidents.get(i.id);
      if (latest && this.#running) this.#want(latest, this.#now());
    });
    return true;
  }

  /**
   * `channel`'s source labels; unknown, it joins `unknown` and `i` is built again when they
   * come (if still open).
   */
  #labelsOf(
    source: NonNullable<AlertSenderOptions["sourceLabels"]>,
    channel: string,
    i: Incident,
    unknown: string[],
  ): Readonly<Record<string, string>> | undefined {
    const labels = source(channel);
    if (labels !== undefined || i.state === "resolved") return labels;
    unknown.push(channel);
    let ids = this.#unlabelled.get(channel);
    if (!ids) {
      this.#unlabelled.set(channel, ids = new Set());
      if (this.#unlabelled.size > this.#config.owed_max) {
        this.#unlabelled.delete(this.#unlabelled.keys().next().value!);
      }
    }
    // Only open incidents wait: a channel that never has labels (not from Prometheus) keeps none.
    for (const id of ids) {
      const other = this.#incidents.get(id);
      if (!other || other.state === "resolved") ids.delete(id);
    }
    ids.add(i.id);
    return undefined;
  }

  async #loop(t: Target): Promise<void> {
    while (this.#running) {
      const now = this.#now();
      const due = t.outbox.due(now, t.kind === "webhook" ? 1 : INCIDENTS_PER_REQUEST_MAX);
      if (due.entries.length > 0) {
        await this.#send(t, due.entries, due.alerts, due.sent);
        this.#dirty = true;
      }
      void this.#save();
      if (due.entries.length > 0) continue;
      const wait = Math.min(IDLE_MS_MAX, Math.max(0, t.outbox.nextDueMs() - this.#now()));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, wait);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        t.wake = done;
      });
      t.wake = undefined;
    }
  }

  async #send(
    t: Target,
    entries: OwedAlert[],
    alerts: PostableAlert[],
    sent: SentAlert[],
  ): Promise<void> {
    const result = await this.#post(t, alerts);
    const now = this.#now();
    if (result.ok) {
      t.outbox.delivered(entries, now, sent);
      t.outbox.targetBack(now);
      t.counts.sent += alerts.length;
    } else if (result.retry) {
      t.outbox.failed(entries, now, Math.random());
      t.counts.retried += alerts.length;
    } else if (entries.length > 1) {
      // One alert of the batch was refused: each is tried alone, so only that one is refused.
      for (const [i, e] of entries.entries()) {
        const s = sent[i]!;
        await this.#send(t, [e], [...e.retired.slice(0, s.retired), s.alert], [s]);
      }
    } else {
      t.counts.failed += alerts.length;
      t.outbox.refused(entries[0]!, result.reason);
      this.#options.log(
        `${t.kind} ${t.name} refused the alert of incident ${entries[0]!.id}: ${result.reason}`,
      );
    }
  }

  async #post(
    t: Target,
    alerts: PostableAlert[],
  ): Promise<{ ok: true } | { ok: false; retry: boolean; reason: string }> {
    let url: string, body: string;
    if (t.kind === "alertmanager") {
      url = `${t.url}/api/v2/alerts`;
      body = encodePostableAlerts(alerts);
    } else {
      url = t.url;
      body = JSON.stringify(buildWebhookPayload(alerts, {
        receiver: "troupe",
        externalURL: this.#config.dashboard_url,
        nowMs: this.#now(),
      }));
    }
    const headers: Record<string, string> = { "content-type": "application/json", ...t.headers };
    // fetch refuses a URL with credentials: they go in the Authorization header instead.
    const u = new URL(url);
    if (u.username !== "" && headers.authorization === undefined) {
      const user = decodeURIComponent(u.username), pass = decodeURIComponent(u.password);
      headers.authorization = `Basic ${btoa(`${user}:${pass}`)}`;
      u.username = u.password = "";
      url = u.toString();
    }
    try {
      const res = await fetch(url, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.timeout(this.#config.timeout_ms),
      });
      const text = (await res.text()).slice(0, REFUSAL_CHARS_MAX);
      if (res.ok) return { ok: true };
      const retry = res.status >= 500 || res.status === 429 || res.status === 408;
      return { ok: false, retry, reason: `HTTP ${res.status}: ${text.trim() || res.statusText}` };
    } catch (err) {
      return { ok: false, retry: true, reason: (err as Error).message };
    }
  }

  async #save(): Promise<void> {
    const store = this.#options.store;
    if (!store || !this.#dirty) return;
    if (this.#saving) return await this.#saving;
    this.#dirty = false;
    const state: SavedSenderState = {
      acks: [...this.#acks],
      targets: this.#targets.map((t) => ({ name: t.name, kind: t.kind, outbox: t.outbox.saved() })),
    };
    this.#saving = store.save({
      stream: ALERTS_OWED_STREAM,
      version: ALERTS_OWED_VERSION,
      pos: 0,
      machine: null,
      kernel: new TextEncoder().encode(JSON.stringify(state)),
    }).catch((err) => {
      this.#dirty = true;
      this.#options.log(`saving the alert outboxes failed: ${(err as Error).message}`);
    }).finally(() => {
      this.#saving = undefined;
    });
    await this.#saving;
  }
}

interface SavedSenderState {
  acks: [string, AlertAck][];
  targets: { name: string; kind: TargetKind; outbox: SavedOutbox }[];
}

/** Delivery states from the least settled to the most. */
const SETTLED: readonly AlertDeliveryState[] = ["owed", "refused", "sent", "silenced"];

function stateOf(e: OwedAlert): AlertDeliveryState {
  if (e.silenced && e.delivered) return "silenced";
  if (e.refused !== undefined) return "refused";
  return e.delivered ? "sent" : "owed";
}

/** `url` without its user and password. */
export function publicUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.toString().replace(/\/+$/, "");
  } catch {
    return url;
  }
}
