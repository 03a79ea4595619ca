/**
 * `troupe bench scan` runs end to end on a small universe: every row is there, the host's scans
 * found what the bare loop found (the bench throws otherwise), also after a fifth of the symbols
 * got a new bar (`--live`), and none of the concurrent scans'
 * subscribers, a third of them reconnecting, lost or repeated a result. Figures are not judged
 * here (speed lives in bench/).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { benchmark } from "../../bench/scan.ts";

const test = suite("bench scan");

test("bench scan runs on 60 symbols: every row, through a host and its API, nothing lost or repeated, a live market's scan equal to the bare loop over its new bars", async () => {
  const rows = await benchmark.run(
    ["--symbols", "60", "--indicator-symbols", "5", "--bars", "234", "--rounds", "1"].concat(
      ["--concurrent", "9", "--live", "0.2"],
    ),
    { log: () => {}, json: true },
  );
  assert.equal(rows.map((r) => r.metric), [
    "indicator_values_per_s",
    "evaluator_symbols_per_s",
    "full_scan_ms",
    "first_result_ms",
    "first_result_first_scan_ms",
    "first_result_first_scan_host_ms",
    "first_request_cold_client_ms",
    "first_result_new_criteria_ms",
    "symbols_per_s",
    "full_scan_live_ms",
    "first_result_live_ms",
    "lost_or_repeated",
    "rss_growth_ratio",
  ]);
  assert.is(rows.find((r) => r.metric === "lost_or_repeated")!.troupe, 0);
  for (const r of rows) assert.ok(Number.isFinite(r.troupe) && r.troupe >= 0, r.metric);
});

test.run();
