/**
 * The host's configuration file (`troupe run --config FILE`): JSON, every field optional, every
 * unknown field an error. A mistake stops startup with the file, the field's path and the value.
 */
import {
  ConfigError,
  configObject,
  readBoolean,
  readNumber,
  readString,
  rejectUnknown,
} from "../../protocol/mod.ts";
import type { AnyActorDefinition } from "../../protocol/mod.ts";
import type { FsyncPolicy } from "./journal.ts";
import { parsePartitions } from "./partition.ts";

/** A host's configuration. */
export interface HostConfig {
  host_id: string;
  /** NATS server URL; the in-process bus when absent. */
  nats: string | undefined;
  data_dir: string;
  partitions: { count: number; owned: number[] };
  /** Where feed frames come from: a core subscription, or a JetStream stream (durable, resumable). */
  input: "core" | "jetstream";
  journal: { kind: "file" | "jetstream" | "memory"; fsync: FsyncPolicy; fsync_interval_ms: number };
  snapshots: { store: "file" | "kv" | "memory"; every_inputs: number; every_ms: number };
  http_port: number | undefined;
  /** Send each output's id as a `Nats-Msg-Id` header, for a JetStream stream capturing outputs. */
  output_msg_id: boolean;
  /** Start over journal losses the input cannot give back (`--accept-journal-loss`). */
  accept_journal_loss: boolean;
  limits: {
    frame_bytes_max: number;
    samples_per_frame_max: number;
    channels_max: number;
    mailbox_max: number;
  };
  /** Per-kind actor configuration; the kinds listed are the kinds this host runs. */
  actors: Record<string, unknown>;
}

/** The defaults, for a host with no config file. */
export function defaultHostConfig(): HostConfig {
  return {
    host_id: "host-1",
    nats: undefined,
    data_dir: ".troupe/host-1",
    partitions: { count: 1, owned: [0] },
    input: "core",
    journal: { kind: "file", fsync: "interval", fsync_interval_ms: 100 },
    snapshots: { store: "file", every_inputs: 1000, every_ms: 5000 },
    http_port: undefined,
    output_msg_id: false,
    accept_journal_loss: false,
    limits: {
      frame_bytes_max: 1 << 20,
      samples_per_frame_max: 65_536,
      channels_max: 100_000,
      mailbox_max: 10_000,
    },
    actors: { stats: {} },
  };
}

/**
 * The largest values the limits take: a frame is one NATS message (a server's max_payload is at
 * most 64 MiB); a frame's samples fit in it as two float64 columns; channels and mailboxes are
 * held in memory.
 */
export const LIMITS_MAX = {
  frame_bytes_max: 64 * 1024 * 1024,
  samples_per_frame_max: 4 * 1024 * 1024,
  channels_max: 10_000_000,
  mailbox_max: 10_000_000,
} as const;

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
          `(or several, comma-separated), got "${entry}"`,
        { value },
      );
    }
  }
  return value;
}

const TOP = [
  "host_id",
  "nats",
  "data_dir",
  "partitions",
  "input",
  "journal",
  "snapshots",
  "http_port",
  "output_msg_id",
  "accept_journal_loss",
  "limits",
  "actors",
] as const;

/** Parses a host configuration object; throws ConfigError naming the field. */
export function parseHostConfig(
  raw: unknown,
  kinds: Readonly<Record<string, AnyActorDefinition>>,
): HostConfig {
  const d = defaultHostConfig();
  const obj = configObject(raw, "");
  rejectUnknown(obj, TOP, "");
  const host_id = readString(obj, "host_id", "", d.host_id);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(host_id)) {
    throw new ConfigError(
      "host_id",
      `Field "host_id" must be 1 to 64 of A-Z a-z 0-9 _ -, got "${host_id}"`,
      {
        value: host_id,
      },
    );
  }
  const nats = obj.nats === undefined
    ? undefined
    : checkNatsUrl(readString(obj, "nats", "", ""), "nats");
  const data_dir = readString(obj, "data_dir", "", `.troupe/${host_id}`);

  let partitions = d.partitions;
  if (obj.partitions !== undefined) {
    const p = configObject(obj.partitions, "partitions");
    rejectUnknown(p, ["count", "owned"], "partitions");
    const count = readNumber(p, "count", "partitions", 1, { min: 1, max: 4096, integer: true });
    const ownedSpec = readString(p, "owned", "partitions", "all");
    try {
      partitions = { count, owned: parsePartitions(ownedSpec, count) };
    } catch (err) {
      throw new ConfigError("partitions.owned", (err as Error).message, { value: ownedSpec });
    }
  }

  const input = readString(obj, "input", "", d.input, ["core", "jetstream"]) as HostConfig["input"];

  let journal = d.journal;
  if (obj.journal !== undefined) {
    const j = configObject(obj.journal, "journal");
    rejectUnknown(j, ["kind", "fsync", "fsync_interval_ms"], "journal");
    journal = {
      kind: readString(j, "kind", "journal", d.journal.kind, [
        "file",
        "jetstream",
        "memory",
      ]) as HostConfig["journal"]["kind"],
      fsync: readString(j, "fsync", "journal", d.journal.fsync, [
        "always",
        "interval",
        "never",
      ]) as FsyncPolicy,
      fsync_interval_ms: readNumber(
        j,
        "fsync_interval_ms",
        "journal",
        d.journal.fsync_interval_ms,
        {
          min: 1,
          max: 60_000,
        },
      ),
    };
  }

  let snapshots = d.snapshots;
  if (obj.snapshots !== undefined) {
    const s = configObject(obj.snapshots, "snapshots");
    rejectUnknown(s, ["store", "every_inputs", "every_ms"], "snapshots");
    snapshots = {
      store: readString(s, "store", "snapshots", d.snapshots.store, [
        "file",
        "kv",
        "memory",
      ]) as HostConfig["snapshots"]["store"],
      every_inputs: readNumber(s, "every_inputs", "snapshots", d.snapshots.every_inputs, {
        min: 1,
        integer: true,
      }),
      every_ms: readNumber(s, "every_ms", "snapshots", d.snapshots.every_ms, { min: 10 }),
    };
  }

  const http_port = obj.http_port === undefined
    ? undefined
    : readNumber(obj, "http_port", "", 0, { min: 0, max: 65535, integer: true });

  let limits = d.limits;
  if (obj.limits !== undefined) {
    const l = configObject(obj.limits, "limits");
    rejectUnknown(
      l,
      ["frame_bytes_max", "samples_per_frame_max", "channels_max", "mailbox_max"],
      "limits",
    );
    limits = {
      frame_bytes_max: readNumber(l, "frame_bytes_max", "limits", d.limits.frame_bytes_max, {
        min: 64,
        max: LIMITS_MAX.frame_bytes_max,
        integer: true,
      }),
      samples_per_frame_max: readNumber(
        l,
        "samples_per_frame_max",
        "limits",
        d.limits.samples_per_frame_max,
        {
          min: 1,
          max: LIMITS_MAX.samples_per_frame_max,
          integer: true,
        },
      ),
      channels_max: readNumber(l, "channels_max", "limits", d.limits.channels_max, {
        min: 1,
        max: LIMITS_MAX.channels_max,
        integer: true,
      }),
      mailbox_max: readNumber(l, "mailbox_max", "limits", d.limits.mailbox_max, {
        min: 1,
        max: LIMITS_MAX.mailbox_max,
        integer: true,
      }),
    };
  }

  const actors = parseActors(obj.actors, kinds);
  if (journal.kind === "jetstream" && nats === undefined) {
    throw new ConfigError(
      "journal.kind",
      `Field "journal.kind" is "jetstream" but no "nats" URL is set`,
      {
        value: journal.kind,
      },
    );
  }
  if (input === "jetstream" && nats === undefined) {
    throw new ConfigError("input", `Field "input" is "jetstream" but no "nats" URL is set`, {
      value: input,
    });
  }
  const output_msg_id = readBoolean(obj, "output_msg_id", "", d.output_msg_id);
  const accept_journal_loss = readBoolean(
    obj,
    "accept_journal_loss",
    "",
    d.accept_journal_loss,
  );
  return {
    host_id,
    nats,
    data_dir,
    partitions,
    input,
    journal,
    snapshots,
    http_port,
    output_msg_id,
    accept_journal_loss,
    limits,
    actors,
  };
}

/**
 * The kinds a host runs and their configurations: every kind it knows, each with the fields its
 * `actors.<kind>` section gives, but those whose section says `"enabled": false`. (Listing one
 * kind used to run that kind alone, which surprised users: issue 12.)
 */
function parseActors(
  raw: unknown,
  kinds: Readonly<Record<string, AnyActorDefinition>>,
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
    const section = { ...configObject(given[kind] ?? {}, path) };
    const enabled = readBoolean(section, "enabled", path, true);
    delete section.enabled;
    if (!enabled) continue;
    def.parseConfig(section, def.defaultConfig, path); // fail early
    actors[kind] = section;
  }
  return actors;
}
