/**
 * A host whose configuration needs JetStream, against a NATS server that has it off, stops at
 * start naming the server and the setting. Without this check it waited out the retry budget
 * meant for a cluster's leader election (jetstream_retry.ts: 20 s), then said it could not tell an
 * election from JetStream off. A server tells in its INFO whether JetStream is on; one that says
 * it is off may still reach JetStream through its cluster (a node without it, routed to nodes
 * with it), so such a server is asked once, without retries, before the host gives up.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { HostFatalError } from "../operations/mod.ts";
import type { HostConfig } from "./host_config.ts";

/** The first setting of `config` that needs JetStream, as `field "value"`; undefined if none. */
export function jetStreamSetting(config: HostConfig): string | undefined {
  if (config.partitions.leases) return `partitions.owned "auto"`;
  if (config.journal.kind === "jetstream") return `journal.kind "jetstream"`;
  if (config.snapshots.store === "kv") return `snapshots.store "kv"`;
  if (config.input === "jetstream") return `input "jetstream"`;
  return undefined;
}

/**
 * Resolves when `nc` reaches JetStream or `config` needs none; rejects with a HostFatalError
 * naming the server and the setting when the server has JetStream off and no JetStream answers.
 */
export async function requireJetStream(nc: NatsConnection, config: HostConfig): Promise<void> {
  const setting = jetStreamSetting(config);
  if (setting === undefined || nc.info?.jetstream === true) return;
  try {
    await jetstreamManager(nc); // asks $JS.API.INFO once
  } catch (err) {
    const name = nc.info?.server_name ? ` (server "${nc.info.server_name}")` : "";
    const server = `nats://${nc.getServer()}${name}`;
    throw new HostFatalError(
      `${setting} needs JetStream, but the NATS server at ${server} has JetStream off (${
        (err as Error).message
      }); start nats-server with -js (or "jetstream {}" in its config), or change ${
        setting.split(" ")[0]
      }`,
      { cause: err },
    );
  }
}
