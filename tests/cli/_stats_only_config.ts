/**
 * The host config of the cli suites that drive a host on worker threads: 4 partitions, all owned,
 * its stats instances answering every sample and every other kind off, so that each frame a
 * suite sends is answered at once by the stats instance of its channel.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ACTOR_KINDS } from "../../actors/mod.ts";

/** Who the host is and where it connects. */
export interface StatsOnlyConfigOptions {
  hostId: string;
  /** The nats-server's URL. */
  nats: string;
  /** Settings over these (a `remote_write` block, partitions by lease, another journal). */
  extra?: Record<string, unknown>;
}

/**
 * Writes the config to `host.json` in `dir`, its data directory `data` beside it and its HTTP
 * port free; returns the file's path.
 */
export function writeStatsOnlyConfig(dir: string, options: StatsOnlyConfigOptions): string {
  const path = join(dir, "host.json");
  writeFileSync(
    path,
    JSON.stringify({
      host_id: options.hostId,
      nats: options.nats,
      // Worker threads share the feed by core subscription (JetStream is the default with NATS).
      input: "core",
      data_dir: join(dir, "data"),
      http_port: 0,
      partitions: { count: 4, owned: "all" },
      actors: Object.fromEntries(
        Object.keys(ACTOR_KINDS).map((
          k,
        ) => [k, k === "stats" ? { every_samples: 1 } : { enabled: false }]),
      ),
      ...options.extra,
    }),
  );
  return path;
}
