/**
 * `troupe run --partitions auto` starts the config file's `remote_write` receiver as a host with
 * static partitions does: it prints the block to paste, a remote-write request is answered once
 * journaled on the feed stream, and its samples reach the actors of whichever partitions the
 * host holds by lease.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { encodeWriteRequest, snappyCompress } from "../../protocol/prometheus/mod.ts";
import { startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";

const test = suite("cli run --partitions auto remote_write");

if (haveNatsServer("cli run --partitions auto remote_write")) {
  test("troupe run --partitions auto starts the remote-write receiver; its samples reach the actors", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const nc = await connect({ servers: nats.url });
    try {
      const path = join(dir.path, "host.json");
      writeFileSync(
        path,
        JSON.stringify({
          host_id: "rw-leased",
          nats: nats.url,
          data_dir: join(dir.path, "data"),
          input: "jetstream",
          journal: { kind: "jetstream" },
          snapshots: { store: "kv" },
          actors: {
            stats: { every_samples: 1 },
            anomaly: { enabled: false },
            collapse: { enabled: false },
            coherence: { enabled: false },
            bars: { enabled: false },
          },
          partitions: { count: 4, owned: "auto" },
          http_port: 0,
          remote_write: { port: 0, feed: "prom" },
        }),
      );
      const run = startTroupe(["run", "--config", path]);
      try {
        await run.waitFor("send_interval", 60_000);
        assert.match(run.output(), "partitions auto of 4");
        assert.match(run.output(), "acknowledged once on the feed stream");
        const url = /url: (http:\/\/127\.0\.0\.1:\d+\/api\/v1\/write)/.exec(run.output())?.[1];
        assert.ok(url, run.output());
        const seen = new Set<string>();
        nc.subscribe("troupe.out.stats.>", { callback: (_e, m) => void seen.add(m.subject) });
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
        // The host takes its leases shortly after it starts: until then the batch waits in the
        // feed stream.
        for (const t = Date.now(); seen.size < 4 && Date.now() - t < 20_000;) {
          await new Promise((res) => setTimeout(res, 50));
        }
        assert.equal(
          [...seen].filter((s) => s.includes("node-node_load1")).sort(),
          ["a", "b", "c", "d"].map((i) => `troupe.out.stats.${i}-node-node_load1`),
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
