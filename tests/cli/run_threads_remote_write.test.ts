/**
 * `troupe run --threads N` starts the config file's `remote_write` receiver as a one-thread host
 * does: it prints the block to paste, a remote-write request is answered once journaled on the
 * feed stream, and its samples reach the actors on the worker threads.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, writeFileSync } from "node:fs";
import { connect } from "@nats-io/transport-node";
import { encodeWriteRequest, snappyCompress } from "../../protocol/prometheus/mod.ts";
import { startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { writeStatsOnlyConfig } from "./_stats_only_config.ts";

const test = suite("cli run --threads remote_write");

if (haveNatsServer("cli run --threads remote_write")) {
  test("troupe run --threads 2 starts the remote-write receiver; its samples reach the threads", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const nc = await connect({ servers: nats.url });
    try {
      const path = writeStatsOnlyConfig(dir.path, { hostId: "rw", nats: nats.url });
      const config = JSON.parse(readFileSync(path, "utf8"));
      writeFileSync(path, JSON.stringify({ ...config, remote_write: { port: 0, feed: "prom" } }));
      const run = startTroupe(["run", "--config", path, "--threads", "2"]);
      try {
        await run.waitFor("send_interval", 60_000);
        assert.match(run.output(), "on 2 threads");
        assert.match(run.output(), "acknowledged once on the feed stream");
        const url = /url: (http:\/\/127\.0\.0\.1:\d+\/api\/v1\/write)/.exec(run.output())?.[1];
        assert.ok(url, run.output());
        const seen = new Set<string>();
        nc.subscribe("troupe.out.>", { callback: (_e, m) => void seen.add(m.subject) });
        const t0 = Date.now();
        const body = snappyCompress(encodeWriteRequest({
          timeseries: ["a", "b", "c", "d"].map((i) => ({
            labels: [
              { name: "__name__", value: "node_load1" },
              { name: "instance", value: i },
              { name: "job", value: "node" },
            ],
            samples: [{ value: 0.5, timestamp: t0 }, { value: 0.7, timestamp: t0 + 1000 }],
          })),
        }));
        const r = await fetch(url!, { method: "POST", body: body as Uint8Array<ArrayBuffer> });
        assert.is(r.status, 204, await r.text());
        for (const t = Date.now(); seen.size < 4 && Date.now() - t < 15_000;) {
          await new Promise((res) => setTimeout(res, 50));
        }
        assert.equal(
          [...seen].filter((s) => s.includes("node-node_load1")).length,
          4,
          [
            ...seen,
          ].join(" "),
        );
        run.signal("SIGINT");
        assert.is(await run.exited, 0, run.output());
      } finally {
        run.signal("SIGKILL");
      }
    } finally {
      await nc.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();
