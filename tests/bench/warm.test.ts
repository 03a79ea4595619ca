/**
 * `troupe bench warm`, small: Debian's VictoriaMetrics holds three targets' past; the receiver
 * reads it in a query a target, every series its whole past, and the rows say so.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { runTroupe } from "../_support/cli.ts";
import { haveBinaries, VICTORIA_METRICS_BIN } from "../_support/prometheus.ts";

const test = suite("bench warm");

if (haveBinaries("bench warm", [VICTORIA_METRICS_BIN])) {
  test("three targets' past read in three queries, every series whole", async () => {
    const r = await runTroupe(
      ["bench", "warm", "--targets", "3", "--series", "50", "--points", "160", "--json"],
      { timeoutMs: 120_000 },
    );
    assert.is(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Array<
      { metric: string; troupe: number; baseline: number }
    >;
    const fig = (m: string) => rows.find((x) => x.metric === m)!;
    assert.equal([fig("warm_queries").troupe, fig("warm_queries").baseline], [3, 150]);
    assert.is(fig("warm_series_share").troupe, 1, r.stderr);
    assert.ok(fig("warm_samples_per_s").troupe > 0 && fig("warm_samples_per_s").baseline > 0);
    assert.match(r.stderr, "troupe read 24000 history samples of 150 series");
  });
}

test.run();
