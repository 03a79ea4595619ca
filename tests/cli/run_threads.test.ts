/**
 * `troupe run --threads N`: a host on worker threads, as a user starts it, against a real
 * nats-server: it says it runs on N threads, applies frames on each, serves one /metrics for all
 * of them, stops cleanly on SIGINT, and refuses what it cannot do with a line naming why.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import { encodeFrame, feedSubject } from "../../protocol/mod.ts";
import { runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";

const test = suite("cli run --threads");

test("troupe run --threads 2 on the in-process bus is a usage error naming why", async () => {
  const dir = tempDir();
  try {
    const r = await runTroupe(["run", "--threads", "2", "--data-dir", dir.path]);
    assert.is(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      "Option --threads 2: the in-process bus is not shared with worker threads",
    );
  } finally {
    dir.remove();
  }
});

if (haveNatsServer("cli run --threads")) {
  test("troupe run --threads 2 runs the partitions on two threads, serves their metrics as one, stops on SIGINT, and refuses the directory to --threads 3", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const nc = await connect({ servers: nats.url });
    try {
      const path = join(dir.path, "host.json");
      writeFileSync(
        path,
        JSON.stringify({
          host_id: "tt",
          nats: nats.url,
          data_dir: join(dir.path, "data"),
          http_port: 0,
          partitions: { count: 4, owned: "all" },
          actors: Object.fromEntries(
            Object.keys(ACTOR_KINDS).map((
              k,
            ) => [k, k === "stats" ? { every_samples: 1 } : { enabled: false }]),
          ),
        }),
      );
      const run = startTroupe(["run", "--config", path, "--threads", "2"]);
      try {
        await run.waitFor("troupe run: host tt running");
        assert.match(run.output(), "running stats on 2 threads on nats://");
        const url = /(http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(run.output())?.[1];
        assert.ok(url, run.output());
        let outputs = 0;
        nc.subscribe("troupe.out.>", { callback: () => void outputs++ });
        for (let i = 0; i < 40; i++) {
          const ch = `k${i % 8}`;
          const t = Float64Array.of(1_700_000_000_000_000 + i * 1000);
          nc.publish(
            feedSubject("tt", ch),
            encodeFrame({ channel: ch, seq0: i >> 3, t, v: Float64Array.of(i) }, {
              id: `f${i}`,
              src: "test",
            }),
          );
        }
        await nc.flush();
        for (const t0 = Date.now(); outputs < 40 && Date.now() - t0 < 15_000;) {
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.is(outputs, 40);
        const metrics = await (await fetch(`${url}/metrics`)).text();
        assert.match(metrics, /troupe_inputs_total\{[^}]*host="tt-t0"[^}]*\} \d/);
        assert.match(metrics, /troupe_inputs_total\{[^}]*host="tt-t1"[^}]*\} \d/);
        run.signal("SIGINT");
        assert.is(await run.exited, 0, run.output());
      } finally {
        run.signal("SIGKILL");
      }
      const again = await runTroupe(["run", "--config", path, "--threads", "3"]);
      assert.is(again.code, 1, again.stderr);
      assert.match(again.stderr, "on 3 threads: its journals were written by 2");
    } finally {
      await nc.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();
