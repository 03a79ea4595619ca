/**
 * `troupe run --partitions auto` starts the config file's `remote_write` receiver as a host with
 * static partitions does: it prints the block to paste, a remote-write request is answered once
 * journaled on the feed stream, and its samples reach the actors of whichever partitions the
 * host holds by lease.
 */
import { suite } from "uvu";
import { haveNatsServer } from "../_support/nats.ts";
import { remoteWriteReachesActors } from "./_remote_write_run.ts";
import { writeStatsOnlyConfig } from "./_stats_only_config.ts";

const test = suite("cli run --partitions auto remote_write");

if (haveNatsServer("cli run --partitions auto remote_write")) {
  test("troupe run --partitions auto starts the remote-write receiver; its samples reach the actors", async () => {
    await remoteWriteReachesActors({
      config: (dir, nats) =>
        writeStatsOnlyConfig(dir, {
          hostId: "rw-leased",
          nats,
          extra: {
            input: "jetstream",
            journal: { kind: "jetstream" },
            snapshots: { store: "kv" },
            partitions: { count: 4, owned: "auto" },
            remote_write: { port: 0, feed: "prom" },
          },
        }),
      says: "partitions auto of 4",
      // The host takes its leases shortly after it starts: until then the batch waits in the
      // feed stream.
      reachMs: 20_000,
    });
  });
}

test.run();
