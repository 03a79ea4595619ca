/**
 * `troupe bench pages` stopped with Ctrl-C while Prometheus gathers history: every server it
 * started (the node exporter, Prometheus) is gone, and the command says so in one line, without a
 * stack, exiting 130. Runs the real node exporter and Prometheus, skipped (loudly) where they are
 * not installed.
 */
import { existsSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { startTroupe } from "../_support/cli.ts";

const test = suite("bench pages");
const BINS = ["/usr/bin/prometheus", "/usr/bin/prometheus-node-exporter"];
const missing = BINS.filter((b) => !existsSync(b));

/** Whether something answers on `url`. */
async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url);
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

if (missing.length > 0) {
  console.log(`\n  !!! SKIPPED bench pages: ${missing.join(", ")} not installed !!!\n`);
} else {
  test("Ctrl-C stops the node exporter and Prometheus; exit 130 and one line", async () => {
    const run = startTroupe(["bench", "pages", "--history-s", "600"]);
    try {
      await run.waitFor("before troupe starts", 60_000);
      const started = /node exporter on (\S+), Prometheus on (\S+) scraping/.exec(run.output());
      assert.ok(started, run.output());
      const exporter = `http://${started![1]}/metrics`;
      const prometheus = `${started![2]}/-/ready`;
      assert.ok(await answers(exporter), "the node exporter answers while the bench runs");
      assert.ok(await answers(prometheus), "Prometheus answers while the bench runs");
      run.signal("SIGINT");
      assert.is(await run.exitCode(60_000), 130, run.output());
      assert.match(run.output(), "troupe bench pages: interrupted by SIGINT: every child stopped");
      assert.not.match(run.output(), /^\s+at /m, "no stack");
      assert.not.ok(await answers(exporter), "the node exporter is stopped");
      assert.not.ok(await answers(prometheus), "Prometheus is stopped");
    } finally {
      await run.stop();
    }
  });
}

test.run();
