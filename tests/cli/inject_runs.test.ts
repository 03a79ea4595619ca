/**
 * `troupe inject`'s identity of a run, against a real nats-server and a real host: two runs with
 * different seeds on the same channels are two runs, both applied, while a run started again with
 * the same `--run` is a retry of it, and what the host applied already is dropped as a duplicate.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";

const test = suite("troupe inject: runs");

/** The sum of a metric's samples for kind "stats" in a /metrics text. */
function statsValue(text: string, metric: string): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(`${metric}{`) && line.includes('kind="stats"')) {
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return sum;
}

if (haveNatsServer("troupe inject: runs")) {
  test("two inject runs with different seeds on the same channels are both applied; the same --run again is a retry", async () => {
    const nats = await startTestNats();
    const dir = tempDir("troupe-inject-runs-");
    // Core input, so the retry reaches the instances, which drop what they applied by its ids
    // (with JetStream input the feed stream's duplicate window drops it before them).
    const config = join(dir.path, "core.json");
    writeFileSync(config, JSON.stringify({ input: "core" }));
    const host = startTroupe([
      "run",
      "--config",
      config,
      "--nats",
      nats.url,
      "--data-dir",
      join(dir.path, "host"),
      "--http-port",
      "0",
    ]);
    try {
      await host.waitFor("troupe run: host", 30_000);
      const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(host.output())?.[1];
      assert.ok(url, host.output());
      // 2 channels, 1000 samples each: 20 frames a run, 100 samples a frame.
      const inject = (...extra: string[]) =>
        runTroupe([
          "inject",
          "--channels",
          "2",
          "--rate",
          "4000",
          "--duration",
          "0.5",
          "--nats",
          nats.url,
          ...extra,
        ]);
      const metricsWhen = async (inputs: number) => {
        let text = "";
        for (const t0 = Date.now(); Date.now() - t0 < 15_000;) {
          text = await (await fetch(`${url}/metrics`)).text();
          const seen = statsValue(text, "troupe_inputs_total") +
            statsValue(text, "troupe_duplicate_inputs_total");
          if (seen >= inputs) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        return text;
      };
      const first = await inject("--seed", "7", "--json");
      assert.is(first.code, 0, first.stderr);
      const second = await inject("--seed", "8");
      assert.is(second.code, 0, second.stderr);
      let text = await metricsWhen(40);
      assert.is(statsValue(text, "troupe_duplicate_inputs_total"), 0, text);
      assert.is(statsValue(text, "troupe_inputs_total"), 40, text);

      // The first run again, by its id: a retry, so nothing more is applied.
      const { run } = JSON.parse(first.stdout) as { run: string };
      assert.match(run, /^[A-Za-z0-9_-]+$/);
      assert.match(second.stdout, /; run [A-Za-z0-9_-]+$/m);
      const again = await inject("--seed", "7", "--run", run);
      assert.is(again.code, 0, again.stderr);
      text = await metricsWhen(60);
      assert.is(statsValue(text, "troupe_duplicate_inputs_total"), 20, text);
    } finally {
      host.signal("SIGTERM");
      await host.exited;
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();
