/**
 * No source line runs past 100 columns (issue 34): `deno fmt` wraps code at 100, and what it
 * leaves (strings, comments, template literals) is wrapped by hand. A comment line that holds a
 * URL may run past it (a URL is not cut). Tests are not read.
 *
 * ALLOWED lets off the files other helpers were changing when the test came, with their count of
 * long lines then: a file may have fewer, never more, and the list only shrinks (the lead empties
 * it once their branches are in).
 */
import { readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ROOT, sources, TOP } from "./_sources.ts";

const LINE_COLUMNS_MAX = 100;
const test = suite("line width");

/** Files let off, with the long lines each had (see the module). */
const ALLOWED: Record<string, number> = {
  "actors/anomaly/_counts.ts": 1,
  "actors/anomaly/kernel.ts": 2,
  "actors/coherence/_coherence_state.ts": 1,
  "actors/coherence/_subspace.ts": 2,
  "actors/coherence/_tridiagonal_eigen.ts": 1,
  "actors/coherence/config.ts": 3,
  "actors/coherence/kernel.ts": 1,
  "actors/coherence/mod.ts": 1,
  "actors/collapse/kernel.ts": 4,
  "actors/incidents/config.ts": 1,
  "actors/incidents/incident_kernel.ts": 2,
  "actors/incidents/incident_machine.ts": 1,
  "actors/incidents/mod.ts": 2,
  "actors/runtime/_jetstream_stream.ts": 1,
  "actors/runtime/_segment_files.ts": 2,
  "actors/runtime/control_stream.ts": 1,
  "actors/runtime/host.ts": 1,
  "actors/runtime/host_config.ts": 1,
  "actors/runtime/jetstream_journal.ts": 3,
  "actors/runtime/jetstream_publisher.ts": 2,
  "actors/runtime/jetstream_retry.ts": 1,
  "actors/runtime/kv_snapshot_store.ts": 3,
  "actors/runtime/launch_host.ts": 4,
  "actors/runtime/launch_leased_host.ts": 1,
  "actors/runtime/lease_bucket.ts": 1,
  "bench/_injector.ts": 1,
  "bench/_scan_host.ts": 1,
  "bench/detect.ts": 6,
  "bench/failover.ts": 1,
  "bench/incidents.ts": 1,
  "bench/nab.ts": 3,
  "bench/pipeline.ts": 1,
  "cli/commands/replay.ts": 4,
  "cli/commands/run.ts": 2,
  "cli/run_incidents.ts": 1,
  "collab/web/browser/channel_chart.ts": 1,
  "collab/web/browser/chart_grid.ts": 1,
  "collab/web/browser/live_plot.ts": 1,
  "collab/web/browser/live_router.ts": 1,
  "collab/web/browser/live_worker.ts": 1,
  "collab/web/browser/main.ts": 1,
  "collab/web/browser/session_link.ts": 1,
  "collab/web/browser/silence_form.ts": 1,
  "collab/web/browser/thresholds_panel.ts": 1,
};

/** The 1-based numbers of the lines of `text` over LINE_COLUMNS_MAX columns, URL comments aside. */
export function longLines(text: string): number[] {
  const long: number[] = [];
  text.split("\n").forEach((line, i) => {
    if ([...line].length <= LINE_COLUMNS_MAX) return;
    const t = line.trim();
    if (/^(\/\/|\/?\*)/.test(t) && /https?:\/\//.test(t)) return;
    long.push(i + 1);
  });
  return long;
}

test("no source line runs past 100 columns, but in the files let off, which do not gain any", () => {
  const found: string[] = [];
  for (const path of TOP.flatMap((top) => sources(join(ROOT, top)))) {
    const file = relative(ROOT, path).split(sep).join("/");
    const long = longLines(readFileSync(path, "utf8"));
    if (long.length > (ALLOWED[file] ?? 0)) {
      const allowed = ALLOWED[file] === undefined ? "" : ` (${ALLOWED[file]} let off)`;
      found.push(`${file}${allowed}: lines ${long.join(", ")}`);
    }
  }
  assert.equal(found, [], `lines over ${LINE_COLUMNS_MAX} columns:\n${found.join("\n")}`);
});

test("longLines() counts characters, not bytes, and lets a URL in a comment run long", () => {
  const at = (n: number) => "x".repeat(n);
  assert.equal(longLines(`${at(100)}\n${at(101)}`), [2]);
  assert.equal(longLines(`const s = "${"µ".repeat(87)}";`), []);
  assert.equal(longLines(` * see https://example.com/${at(100)}`), []);
  assert.equal(longLines(`const u = "https://example.com/${at(100)}";`), [1]);
});

test.run();
