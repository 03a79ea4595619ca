/**
 * The host's configuration file (`troupe run --config FILE`): JSON, every field optional, every
 * unknown field an error. A mistake stops startup with the file, the field's path and the value.
 */
import { DEFAULT_PROGRESS, type ProgressSettings } from "./progress_reporter.ts";
import {
  type AnyActorDefinition,
  ConfigError,
  configObject,
  type HttpCredentials,
  readBoolean,
  readHttpCredentials,
  readNumber,
  readString,
  rejectUnknown,
} from "../../../protocol/mod.ts";
import type { FsyncPolicy } from "../journal/mod.ts";
import type { FeedStreamOptions } from "../edge/mod.ts";
import { parsePartitions } from "./partition.ts";
import { SNAPSHOT_MAX_AGE_MS, SNAPSHOT_MIN_INPUTS } from "../recovery/mod.ts";
import {
  mergeNatsAuth,
  NATS_AUTH_FIELDS,
  type NatsAuth,
  redactNatsUrl,
  splitNatsUrl,
} from "../transport/mod.ts";
import { channelsFitting, memoryBudgetMbDefault, UNKNOWN_HOST_BYTES } from "./channel_budget.ts";
import { channelsMaxFor, type LimitsConfig, parseLimitsSection } from "./limits_config.ts";
import {
  defaultSupervisionConfig,
  parseSupervisionSection,
  type SupervisionConfig,
} from "./supervision_config.ts";

/** How a host that shares partitions by lease keeps them (`partitions.owned: "auto"`). */
export interface LeaseSettings {
  /** The lease's time to live, ms: a dead host's partitions are taken over after it. 10,000. */
  ttl_ms: number;
  /** Milliseconds between renewals: a quarter of the TTL by default. */
  heartbeat_ms: number;
  /**
   * On a cold start (no partition held), how long the live hosts must stay the same before the
   * first claims (partition_leases.ts): a tenth of the TTL by default, a tenth of the time a
   * start has.
   */
  settle_ms: number;
}

/** The lease settings of `ttlMs` (default 10 s), renewed four times a TTL. */
export function leaseSettings(ttlMs = 10_000): LeaseSettings {
  return {
    ttl_ms: ttlMs,
    heartbeat_ms: Math.max(50, Math.floor(ttlMs / 4)),
    settle_ms: Math.floor(ttlMs / 10),
  };
}

/** A host's configuration. */
export interface HostConfig {
  host_id: string;
  /** NATS server URL; the in-process bus when absent. */
  nats: string | undefined;
  /**
   * The credentials for `nats` (`nats.user`, `nats.creds`, ... in the file, `TROUPE_NATS_*` and
   * the command line over them); a user and password written into the URL are moved here, so
   * `nats` can be printed.
   */
  nats_auth: NatsAuth;
  /**
   * The replicas of every stream and bucket troupe creates in JetStream (the feed, control,
   * journal and findings streams, the snapshot, lease and step overrun buckets): `nats.replicas`,
   * 1; 3 on a 3-node cluster.
   */
  replicas: number;
  /**
   * What the feed stream (`TROUPE_FEED`) keeps at most: `nats.feed_max_bytes` (1 GiB) and
   * `nats.feed_max_age_s` (1 hour), the oldest frames dropped past either. A host down longer
   * than the stream holds misses what was dropped (its journal says so at the start). Absent, the
   * defaults make the stream, and a stream made otherwise (by `nats stream edit`, say) is left so.
   */
  feed_stream: { max_bytes?: number; max_age_s?: number };
  data_dir: string;
  /**
   * The partitions and those this host owns; with `leases` (`owned: "auto"`), the host shares
   * them out with the cluster's other hosts by lease (partition_leases.ts), and `owned` is unused.
   */
  partitions: { count: number; owned: number[]; leases?: LeaseSettings };
  /**
   * Where feed frames come from: a JetStream stream (durable, resumable: the default with NATS),
   * or a core subscription (at most once: frames sent while the host is down are lost).
   */
  input: "core" | "jetstream";
  journal: {
    kind: "file" | "jetstream" | "memory";
    fsync: FsyncPolicy;
    fsync_interval_ms: number;
    /**
     * Whether the JetStream journal writes the inputs waiting in a mailbox as one message (absent:
     * true); false while older hosts, which misread such messages, may still read the journal.
     */
    runs?: boolean;
  };
  /** `min_inputs` and `max_age_ms`: which instances a periodic round or a stop snapshots
   *  (snapshotter.ts); absent, the defaults there. */
  snapshots: {
    store: "file" | "packed" | "kv" | "memory";
    every_inputs: number;
    every_ms: number;
    min_inputs?: number;
    max_age_ms?: number;
  };
  http_port: number | undefined;
  /** The address the HTTP port listens on: `127.0.0.1`, only this machine; `0.0.0.0`, all. */
  http_host: string;
  /**
   * What the HTTP port asks of a request (a bearer token or basic auth) but on `/healthz`:
   * `http_bearer_token` or `http_basic_auth`, or `TROUPE_HTTP_TOKEN`; none by default.
   */
  http_auth: HttpCredentials;
  /** Send each output's id as a `Nats-Msg-Id` header, for a JetStream stream capturing outputs. */
  output_msg_id: boolean;
  /** Start over journal losses the input cannot give back (`--accept-journal-loss`). */
  accept_journal_loss: boolean;
  limits: LimitsConfig;
  /** What the host does with inputs that take its instances down (supervision_config.ts). */
  supervision: SupervisionConfig;
  /** Per-kind actor configuration; the kinds listed are the kinds this host runs. */
  actors: Record<string, unknown>;
  /**
   * The cluster's incident stage settings, as written (`actors/incidents` parses them: this
   * folder cannot import it, so `troupe run` checks them when it loads the file).
   */
  incidents: Record<string, unknown>;
  /**
   * The metrics receiver's settings (remote write and OTLP), as written, or undefined for none
   * (`actors/ingest` parses them, and `troupe run` checks them when it loads the file).
   */
  remote_write: Record<string, unknown> | undefined;
  /** Where incidents are sent (Alertmanagers, webhooks), as written (`actors/alerting` parses
   *  it). */
  alerting?: Record<string, unknown>;
  /** How the host reports its progress to the incident stage (DEFAULT_PROGRESS when absent). */
  progress?: ProgressSettings;
}

/** The defaults, for a host with no config file. */
export function defaultHostConfig(): HostConfig {
  return {
    host_id: "host-1",
    nats: undefined,
    nats_auth: {},
    replicas: 1,
    feed_stream: {},
    data_dir: ".troupe/host-1",
    partitions: { count: 1, owned: [0] },
    input: "core",
    journal: { kind: "file", fsync: "interval", fsync_interval_ms: 100 },
    snapshots: {
      store: "packed",
      every_inputs: 1000,
      every_ms: 5000,
      min_inputs: SNAPSHOT_MIN_INPUTS,
      max_age_ms: SNAPSHOT_MAX_AGE_MS,
    },
    http_port: undefined,
    http_host: HTTP_HOST_DEFAULT,
    http_auth: {},
    output_msg_id: false,
    accept_journal_loss: false,
    limits: {
      frame_bytes_max: 1 << 20,
      samples_per_frame_max: 65_536,
      // A host of kinds it cannot see; parseHostConfig counts the kinds it runs.
      channels_max: channelsFitting(memoryBudgetMbDefault(), UNKNOWN_HOST_BYTES),
      mailbox_max: 10_000,
      memory_budget_mb: memoryBudgetMbDefault(),
    },
    supervision: defaultSupervisionConfig(),
    actors: { stats: {} },
    incidents: {},
    remote_write: undefined,
  };
}

/** Where the HTTP port listens by default: loopback, so nothing off the machine reaches it. */
export const HTTP_HOST_DEFAULT = "127.0.0.1";

/** URL schemes a NATS client connects with. */
const NATS_SCHEMES = ["nats:", "tls:", "ws:", "wss:"];

/**
 * Checks a NATS server list (`nats://host:port`, `host:port`, comma-separated); throws a
 * ConfigError naming `field` and the value when an entry is not a server URL.
 */
export function checkNatsUrl(value: string, field: string): string {
  const entries = value.split(",").map((s) => s.trim());
  for (const entry of entries) {
    let url: URL | undefined;
    try {
      url = new URL(/^[a-z]+:\/\//i.test(entry) ? entry : `nats://${entry}`);
    } catch {
      url = undefined;
    }
    if (
      !url || !NATS_SCHEMES.includes(url.protocol) || url.hostname === "" || url.pathname.length > 1
    ) {
      throw new ConfigError(
        field,
        `Field "${field}" must be a NATS server URL such as nats://127.0.0.1:4222 ` +
          `(or several, comma-separated), got "${redactNatsUrl(entry)}"`,
        { value: redactNatsUrl(value) },
      );
    }
  }
  return value;
}

const TOP = [
  // Modules of a user's kinds: read by the command, which hands the host their definitions.
  "kinds",
  "host_id",
  "nats",
  "data_dir",
  "partitions",
  "input",
  "journal",
  "snapshots",
  "http_port",
  "http_host",
  "http_bearer_token",
  "http_basic_auth",
  "output_msg_id",
  "accept_journal_loss",
  "limits",
  "supervision",
  "actors",
  "incidents",
  "remote_write",
  "alerting",
  "progress",
] as const;

/** What the command line sets over a configuration file while it is parsed. */
export interface HostConfigOverrides {
  /** A NATS URL (`--nats`), over the file's `nats`, checked by the caller. */
  nats?: string;
}

/**
 * Parses a host configuration object; throws ConfigError naming the field. With a NATS URL (the
 * file's or `overrides.nats`) the input is JetStream unless the file says `"input": "core"`.
 */
export function parseHostConfig(
  raw: unknown,
  kinds: Readonly<Record<string, AnyActorDefinition>>,
  overrides: HostConfigOverrides = {},
): HostConfig {
  const d = defaultHostConfig();
  const obj = configObject(raw, "");
  rejectUnknown(obj, TOP, "");
  const host_id = readString(obj, "host_id", "", d.host_id);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(host_id)) {
    throw new ConfigError(
      "host_id",
      `Field "host_id" must be 1 to 64 of A-Z a-z 0-9 _ -, got "${host_id}"`,
      { value: host_id },
    );
  }
  const nats = parseNatsSection(obj.nats);
  if (overrides.nats !== undefined) {
    // The command line's URL over the file's; credentials in it over the file's.
    const { url, auth } = splitNatsUrl(overrides.nats);
    nats.nats = url;
    nats.nats_auth = mergeNatsAuth(auth, nats.nats_auth);
  }
  // Durable unless the file says otherwise in words: a host with NATS resumes its feed from the
  // stream after a crash; core input loses what is sent while it is down.
  const inputDefault = nats.nats === undefined ? d.input : "jetstream";
  const config: HostConfig = {
    host_id,
    ...nats,
    data_dir: readString(obj, "data_dir", "", `.troupe/${host_id}`),
    partitions: obj.partitions === undefined
      ? d.partitions
      : parsePartitionsSection(obj.partitions),
    input: readString(obj, "input", "", inputDefault, ["core", "jetstream"]) as HostConfig["input"],
    journal: obj.journal === undefined ? d.journal : parseJournalSection(obj.journal, d.journal),
    snapshots: obj.snapshots === undefined
      ? d.snapshots
      : parseSnapshotsSection(obj.snapshots, d.snapshots),
    http_port: obj.http_port === undefined
      ? undefined
      : readNumber(obj, "http_port", "", 0, { min: 0, max: 65535, integer: true }),
    http_host: readHttpHost(obj),
    http_auth: readHttpCredentials(
      obj,
      { token: "http_bearer_token", basic: "http_basic_auth" },
      "",
    ),
    output_msg_id: readBoolean(obj, "output_msg_id", "", d.output_msg_id),
    accept_journal_loss: readBoolean(obj, "accept_journal_loss", "", d.accept_journal_loss),
    limits: obj.limits === undefined ? { ...d.limits } : parseLimitsSection(obj.limits, d.limits),
    supervision: parseSupervisionSection(obj.supervision, Object.keys(kinds)),
    actors: parseActors(obj.actors, kinds, obj.remote_write !== undefined),
    incidents: obj.incidents === undefined ? {} : { ...configObject(obj.incidents, "incidents") },
    remote_write: obj.remote_write === undefined
      ? undefined
      : { ...configObject(obj.remote_write, "remote_write") },
    ...(obj.alerting === undefined
      ? {}
      : { alerting: { ...configObject(obj.alerting, "alerting") } }),
    ...(obj.progress === undefined ? {} : { progress: parseProgressSection(obj.progress) }),
  };
  // The channel limit follows the budget and the kinds run, unless it is set.
  if ((obj.limits as Record<string, unknown> | undefined)?.channels_max === undefined) {
    const budget = config.limits.memory_budget_mb;
    config.limits.channels_max = channelsMaxFor(budget, config.actors, kinds);
  }
  checkNatsNeeded(config);
  return config;
}

/** `http_host`: an address to listen on. */
function readHttpHost(obj: Record<string, unknown>): string {
  return checkHttpHost(readString(obj, "http_host", "", HTTP_HOST_DEFAULT), "http_host");
}

/**
 * Checks an address to listen on (a name or an IP address, without a port); throws a
 * ConfigError naming `field` and the value when it is not one.
 */
export function checkHttpHost(value: string, field: string): string {
  // One colon and digits after it is a port (IPv6 addresses have two colons or more).
  if (!/^[A-Za-z0-9.\-:\[\]%]+$/.test(value) || /^[^:]*:\d*$/.test(value)) {
    throw new ConfigError(
      field,
      `Field "${field}" must be an address to listen on such as 127.0.0.1 or 0.0.0.0 (without ` +
        `a port), got ${JSON.stringify(value)}`,
      { value },
    );
  }
  return value;
}

/** The feed stream's options for `config` (its replicas, and the limits the config sets). */
export function feedStreamOptions(config: HostConfig): FeedStreamOptions {
  const { max_bytes, max_age_s } = config.feed_stream;
  return {
    replicas: config.replicas,
    ...(max_bytes === undefined ? {} : { maxBytes: max_bytes }),
    ...(max_age_s === undefined ? {} : { maxAgeMs: max_age_s * 1000 }),
  };
}

/** JetStream keeps at most 5 replicas of a stream. */
export const REPLICAS_MAX = 5;

/**
 * `nats`: a server URL (list), or `{ url, replicas }` and the credentials (`user`, `password`,
 * `token`, and the files `nkey`, `creds`, `ca`, `cert`, `key`).
 */
function parseNatsSection(raw: unknown): NatsSection {
  const feed_stream = {};
  if (raw === undefined) return { nats: undefined, nats_auth: {}, replicas: 1, feed_stream };
  if (typeof raw === "string") {
    const { url, auth } = splitNatsUrl(checkNatsUrl(raw, "nats"));
    return { nats: url, nats_auth: auth, replicas: 1, feed_stream };
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(
      "nats",
      `Field "nats" must be a NATS server URL or { "url", "replicas" }, got ${JSON.stringify(raw)}`,
      { value: raw },
    );
  }
  const n = configObject(raw, "nats");
  rejectUnknown(n, ["url", "replicas", ...FEED_STREAM_FIELDS, ...NATS_AUTH_FIELDS], "nats");
  if (n.url === undefined) {
    throw new ConfigError("nats.url", `Field "nats.url" is missing: the NATS server URL`, {
      value: undefined,
    });
  }
  const { url, auth } = splitNatsUrl(checkNatsUrl(readString(n, "url", "nats", ""), "nats.url"));
  const given: NatsAuth = {};
  for (const field of NATS_AUTH_FIELDS) {
    if (n[field] === undefined) continue;
    if (typeof n[field] !== "string" || n[field] === "") {
      throw new ConfigError(
        `nats.${field}`,
        `Field "nats.${field}" must be a non-empty string, got ${typeof n[field]}`,
        { value: typeof n[field] },
      );
    }
    given[field] = n[field] as string;
  }
  return {
    nats: url,
    nats_auth: { ...auth, ...given },
    replicas: readNumber(n, "replicas", "nats", 1, { min: 1, max: REPLICAS_MAX, integer: true }),
    // A stream smaller than a frame or younger than a restart would keep nothing a host needs.
    feed_stream: {
      ...(n.feed_max_bytes === undefined ? {} : {
        max_bytes: readNumber(n, "feed_max_bytes", "nats", 0, {
          min: 1 << 20,
          max: Number.MAX_SAFE_INTEGER,
          integer: true,
        }),
      }),
      ...(n.feed_max_age_s === undefined ? {} : {
        max_age_s: readNumber(n, "feed_max_age_s", "nats", 0, {
          min: 60,
          max: 365 * 86_400,
          integer: true,
        }),
      }),
    },
  };
}

type NatsSection = Pick<HostConfig, "nats" | "nats_auth" | "replicas" | "feed_stream">;
const FEED_STREAM_FIELDS = ["feed_max_bytes", "feed_max_age_s"];

function parsePartitionsSection(raw: unknown): HostConfig["partitions"] {
  const p = configObject(raw, "partitions");
  rejectUnknown(
    p,
    ["count", "owned", "lease_ttl_ms", "heartbeat_ms", "settle_ms"],
    "partitions",
  );
  const count = readNumber(p, "count", "partitions", 1, { min: 1, max: 4096, integer: true });
  const ownedSpec = readString(p, "owned", "partitions", "all");
  if (ownedSpec.trim() === "auto") {
    const ttl = readNumber(p, "lease_ttl_ms", "partitions", 10_000, {
      min: 200,
      max: 3_600_000,
      integer: true,
    });
    const d = leaseSettings(ttl);
    const beat = readNumber(p, "heartbeat_ms", "partitions", d.heartbeat_ms, {
      min: 20,
      max: Math.floor(ttl / 2),
      integer: true,
    });
    const settle = readNumber(p, "settle_ms", "partitions", d.settle_ms, {
      min: 0,
      max: Math.floor(ttl / 2),
      integer: true,
    });
    return { count, owned: [], leases: { ttl_ms: ttl, heartbeat_ms: beat, settle_ms: settle } };
  }
  try {
    return { count, owned: parsePartitions(ownedSpec, count) };
  } catch (err) {
    throw new ConfigError("partitions.owned", (err as Error).message, { value: ownedSpec });
  }
}

function parseJournalSection(raw: unknown, d: HostConfig["journal"]): HostConfig["journal"] {
  const j = configObject(raw, "journal");
  rejectUnknown(j, ["kind", "fsync", "fsync_interval_ms", "runs"], "journal");
  return {
    kind: readString(j, "kind", "journal", d.kind, [
      "file",
      "jetstream",
      "memory",
    ]) as HostConfig["journal"]["kind"],
    fsync: readString(j, "fsync", "journal", d.fsync, [
      "always",
      "interval",
      "never",
    ]) as FsyncPolicy,
    fsync_interval_ms: readNumber(j, "fsync_interval_ms", "journal", d.fsync_interval_ms, {
      min: 1,
      max: 60_000,
    }),
    runs: readBoolean(j, "runs", "journal", d.runs ?? true),
  };
}

function parseSnapshotsSection(
  raw: unknown,
  d: HostConfig["snapshots"],
): HostConfig["snapshots"] {
  const s = configObject(raw, "snapshots");
  const keys = ["store", "every_inputs", "every_ms", "min_inputs", "max_age_ms"];
  rejectUnknown(s, keys, "snapshots");
  return {
    store: readString(s, "store", "snapshots", d.store, [
      "file",
      "packed",
      "kv",
      "memory",
    ]) as HostConfig["snapshots"]["store"],
    every_inputs: readNumber(s, "every_inputs", "snapshots", d.every_inputs, {
      min: 1,
      integer: true,
    }),
    every_ms: readNumber(s, "every_ms", "snapshots", d.every_ms, { min: 10 }),
    min_inputs: readNumber(s, "min_inputs", "snapshots", d.min_inputs ?? SNAPSHOT_MIN_INPUTS, {
      min: 1,
      integer: true,
    }),
    max_age_ms: readNumber(s, "max_age_ms", "snapshots", d.max_age_ms ?? SNAPSHOT_MAX_AGE_MS, {
      min: 0,
    }),
  };
}

function parseProgressSection(raw: unknown): ProgressSettings {
  const s = configObject(raw, "progress");
  rejectUnknown(s, ["interval_ms", "idle_ms", "ahead_ms"], "progress");
  const d = DEFAULT_PROGRESS;
  const ms = (key: keyof ProgressSettings, min: number) =>
    readNumber(s, key, "progress", d[key], { min, max: 86_400_000, integer: true });
  return {
    interval_ms: ms("interval_ms", 0),
    idle_ms: ms("idle_ms", 1),
    ahead_ms: ms("ahead_ms", 0),
  };
}

/** A JetStream journal or input needs a NATS URL. */
function checkNatsNeeded(config: HostConfig): void {
  if (config.journal.kind === "jetstream" && config.nats === undefined) {
    throw new ConfigError(
      "journal.kind",
      `Field "journal.kind" is "jetstream" but no "nats" URL is set`,
      { value: config.journal.kind },
    );
  }
  if (config.input === "jetstream" && config.nats === undefined) {
    throw new ConfigError("input", `Field "input" is "jetstream" but no "nats" URL is set`, {
      value: config.input,
    });
  }
}

/**
 * The kinds a host runs and their configurations: every kind it knows, each with the fields its
 * `actors.<kind>` section gives, but those whose section says `"enabled": false`, and on a host
 * fed service metrics (`metricsHost`: one with a metrics receiver) a kind for markets
 * (`feeds: "markets"`) whose section is not written. A section sets its kind's fields and does not
 * turn the other kinds off.
 */
function parseActors(
  raw: unknown,
  kinds: Readonly<Record<string, AnyActorDefinition>>,
  metricsHost: boolean,
): Record<string, unknown> {
  const given = raw === undefined ? {} : configObject(raw, "actors");
  for (const kind of Object.keys(given)) {
    if (!kinds[kind]) {
      throw new ConfigError(
        `actors.${kind}`,
        `Unknown actor kind "actors.${kind}"; known kinds: ${Object.keys(kinds).join(", ")}`,
        { value: kind },
      );
    }
  }
  const actors: Record<string, unknown> = {};
  for (const [kind, def] of Object.entries(kinds)) {
    const path = `actors.${kind}`;
    if (metricsHost && !(kind in given) && !runsOnMetricsHost(def)) continue;
    const section = { ...configObject(given[kind] ?? {}, path) };
    const enabled = readBoolean(section, "enabled", path, true);
    delete section.enabled;
    if (!enabled) continue;
    def.parseConfig(section, def.defaultConfig, path); // fail early
    actors[kind] = section;
  }
  return actors;
}

/** Whether a host fed service metrics runs `def` unasked: unless it is a kind for markets. */
export function runsOnMetricsHost(def: AnyActorDefinition): boolean {
  return def.feeds !== "markets";
}
