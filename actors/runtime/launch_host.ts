/**
 * Builds a running host from a HostConfig: the bus (NATS or in-process), the journal (file,
 * JetStream or memory), the snapshot store (file, NATS KV or memory), the input (core or
 * JetStream), and the host itself. `troupe run` and `troupe up` both start hosts through here.
 */
import { join } from "node:path";
import type { Bus } from "../../protocol/mod.ts";
import type { AnyActorDefinition } from "../../protocol/mod.ts";
import { FileJournal } from "./file_journal.ts";
import { FileSnapshotStore } from "./file_snapshot_store.ts";
import { Host } from "./host.ts";
import type { HostConfig } from "./host_config.ts";
import { InProcessBus } from "./in_process_bus.ts";
import { jetStreamInput } from "./jetstream_input.ts";
import type { Journal } from "./journal.ts";
import { MemoryJournal } from "./memory_journal.ts";
import { MemorySnapshotStore } from "./memory_snapshot_store.ts";
import { NatsBus } from "./nats_bus.ts";
import type { SnapshotStore } from "./snapshot_store.ts";

/** A host with what it was built from. */
export interface LaunchedHost {
  host: Host;
  bus: Bus;
  journal: Journal;
  snapshots: SnapshotStore;
  /** Stops the host, then closes the journal, the snapshot store and (if it owns it) the bus. */
  close(): Promise<void>;
}

/** Options of `launchHost`. */
export interface LaunchOptions {
  /** A bus to use instead of connecting (e.g. the in-process bus `troupe up` shares). */
  bus?: Bus;
  log?: (message: string) => void;
}

/** Builds and starts a host from its configuration. */
export async function launchHost(
  config: HostConfig,
  kinds: Readonly<Record<string, AnyActorDefinition>>,
  options: LaunchOptions = {},
): Promise<LaunchedHost> {
  const log = options.log ?? ((m: string) => console.error(`[${config.host_id}] ${m}`));
  const ownsBus = options.bus === undefined;
  const bus: Bus = options.bus ??
    (config.nats
      ? await NatsBus.connect(config.nats, {
        name: config.host_id,
        onStatus: (s) => {
          if (s === "disconnect" || s === "reconnect") log(`NATS ${s}`);
        },
      })
      : new InProcessBus());
  const nc = bus instanceof NatsBus ? bus.nc : undefined;

  let journal: Journal;
  switch (config.journal.kind) {
    case "file":
      journal = await FileJournal.open(join(config.data_dir, "journal"), {
        fsync: config.journal.fsync,
        fsyncIntervalMs: config.journal.fsync_interval_ms,
        onTruncate: (info) =>
          log(
            `journal: torn tail truncated: ${info.bytes} bytes at ${info.segment}:${info.offset}`,
          ),
        onDamage: (d) =>
          log(
            `journal: damaged: ${d.bytes} bytes at ${d.segment}:${d.offset} (${d.reason}); kept on disk, read on at the next intact record`,
          ),
      });
      break;
    case "jetstream": {
      if (!nc) throw new Error(`journal.kind "jetstream" needs a NATS connection`);
      const { JetStreamJournal } = await import("./jetstream_journal.ts");
      journal = await JetStreamJournal.open(nc);
      break;
    }
    default:
      journal = new MemoryJournal();
  }

  let snapshots: SnapshotStore;
  switch (config.snapshots.store) {
    case "file":
      snapshots = await FileSnapshotStore.open(join(config.data_dir, "snapshots"), {
        onCorrupt: (info) =>
          log(
            `snapshot of ${info.stream} damaged (${info.where}: ${info.reason}); rebuilding it from the journal`,
          ),
      });
      break;
    case "kv": {
      if (!nc) throw new Error(`snapshots.store "kv" needs a NATS connection`);
      const { KvSnapshotStore } = await import("./kv_snapshot_store.ts");
      snapshots = await KvSnapshotStore.open(nc, {
        onCorrupt: (info) =>
          log(
            `snapshot of ${info.stream} damaged (${info.where}: ${info.reason}); rebuilding it from the journal`,
          ),
      });
      break;
    }
    default:
      snapshots = new MemorySnapshotStore();
  }

  const actors = Object.keys(config.actors).map((kind) => kinds[kind]!);
  const host = new Host({
    hostId: config.host_id,
    bus,
    actors,
    config: config.actors,
    journal,
    snapshots,
    partitions: { count: config.partitions.count, owned: config.partitions.owned },
    ...(config.input === "jetstream" && nc ? { input: jetStreamInput(nc) } : {}),
    limits: {
      messageBytesMax: config.limits.frame_bytes_max,
      samplesPerFrameMax: config.limits.samples_per_frame_max,
      channelsMax: config.limits.channels_max,
      mailboxMax: config.limits.mailbox_max,
    },
    snapshotEveryInputs: config.snapshots.every_inputs,
    snapshotEveryMs: config.snapshots.every_ms,
    msgIdHeaders: nc !== undefined && config.output_msg_id,
    acceptJournalLoss: config.accept_journal_loss,
    ...(config.http_port === undefined ? {} : { httpPort: config.http_port }),
    log,
  });
  try {
    await host.start();
  } catch (err) {
    // A host that cannot start leaves nothing open behind it (the process can then exit).
    await host.stop().catch(() => {});
    await journal.close().catch(() => {});
    await snapshots.close().catch(() => {});
    if (ownsBus) await bus.close().catch(() => {});
    throw err;
  }
  return {
    host,
    bus,
    journal,
    snapshots,
    async close() {
      await host.stop();
      await journal.close();
      await snapshots.close();
      if (ownsBus) await bus.close();
    },
  };
}
