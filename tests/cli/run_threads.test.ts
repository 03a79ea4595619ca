/**
 * `troupe run --threads N`: a host on worker threads, as a user starts it, against a real
 * nats-server: it says it runs on N threads, applies frames on each, serves one /metrics for all
 * of them, stops cleanly on SIGINT, and refuses what it cannot do with a line naming why.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import process from "node:process";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { THREAD_YOUNG_GENERATION_MB } from "../../actors/runtime/mod.ts";
import { encodeFrame, feedSubject } from "../../protocol/mod.ts";
import { runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { writeStatsOnlyConfig } from "./_stats_only_config.ts";

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
      const path = writeStatsOnlyConfig(dir.path, { hostId: "tt", nats: nats.url });
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

/** The heap limit, in bytes, of a worker given a young generation of `mb` MiB by plain node. */
function workerHeapLimit(mb: number): number {
  const script = `const { Worker } = require("node:worker_threads");
    const w = new Worker('const { parentPort } = require("node:worker_threads");' +
      'parentPort.postMessage(require("node:v8").getHeapStatistics().heap_size_limit)',
      { eval: true, resourceLimits: { maxYoungGenerationSizeMb: ${mb} } });
    w.once("message", (n) => { console.log(n); void w.terminate(); });`;
  const { NODE_OPTIONS: _, ...env } = process.env;
  const r = spawnSync(process.execPath, ["-e", script], { env });
  if (r.status !== 0) throw new Error(`plain node's worker: ${r.stderr}`);
  return Number(String(r.stdout).trim());
}

// The `troupe` command's `#!` line gives V8 --max-semi-space-size, which a worker's own limits
// give way to; cli/troupe.mjs is Node's launcher (Deno runs cli/main.ts).
if (process.env.TROUPE_TEST_RUNTIME !== "deno" && haveNatsServer("cli run --threads, #!")) {
  test("troupe run --threads 2 as the command runs it (its #! flags) gives each thread the young generation a worker of THREAD_YOUNG_GENERATION_MB gets", async () => {
    const nats = await startTestNats();
    const dir = tempDir();
    const path = join(dir.path, "host.json");
    writeFileSync(
      path,
      JSON.stringify({
        host_id: "ty",
        nats: nats.url,
        input: "core",
        data_dir: join(dir.path, "data"),
        http_port: 0,
        partitions: { count: 2, owned: "all" },
        actors: { stats: {} },
      }),
    );
    const run = startTroupe(["run", "--config", path, "--threads", "2"], undefined, {
      shebang: true,
    });
    try {
      await run.waitFor("troupe run: host ty running");
      const url = /(http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(run.output())?.[1];
      assert.ok(url, run.output());
      const metrics = await (await fetch(`${url}/metrics`)).text();
      const want = workerHeapLimit(THREAD_YOUNG_GENERATION_MB);
      assert.ok(want > 0, `plain node's worker: ${want}`);
      for (const t of ["ty-t0", "ty-t1"]) {
        const got = new RegExp(`troupe_thread_heap_limit_bytes\\{host="${t}"\\} (\\d+)`)
          .exec(metrics)?.[1];
        // Given the #! line's --max-semi-space-size, a thread's limit grows by three of its
        // semi-spaces (96 MiB at 32) instead of its own 3 MiB young generation.
        assert.is(Number(got), want, `${t}: ${got} bytes, want ${want}`);
      }
      run.signal("SIGINT");
      assert.is(await run.exited, 0, run.output());
    } finally {
      run.signal("SIGKILL");
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();
