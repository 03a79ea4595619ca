/**
 * `troupe run --threads N` starts the config file's `remote_write` receiver as a one-thread host
 * does: it prints the block to paste, a remote-write request is answered once journaled on the
 * feed stream, and its samples reach the actors on the worker threads.
 */
import { suite } from "uvu";
import { haveNatsServer } from "../_support/nats.ts";
import { remoteWriteReachesActors } from "./_remote_write_run.ts";
import { writeStatsOnlyConfig } from "./_stats_only_config.ts";

const test = suite("cli run --threads remote_write");

if (haveNatsServer("cli run --threads remote_write")) {
  test("troupe run --threads 2 starts the remote-write receiver; its samples reach the threads", async () => {
    await remoteWriteReachesActors({
      config: (dir, nats) =>
        writeStatsOnlyConfig(dir, {
          hostId: "rw",
          nats,
          extra: { remote_write: { port: 0, feed: "prom" } },
        }),
      args: ["--threads", "2"],
      says: "on 2 threads",
      reachMs: 15_000,
    });
  });
}

test.run();
