/**
 * `troupe bench dashboard --all-visible` runs each page in a window tall enough for every card
 * (the default 1600x1200 shows about 10 of 16, and cards off screen paint nothing), checks in the
 * run that every live view intersects the window, says so in each run's log line, and names its
 * rows `..._all_visible` so they are never read as the default's bar. A short run (20 updates, one
 * round, troupe and the floor): what is checked is the set-up, not the figures. The same run
 * writes `--profile` summaries of both pages (the floor's to `F.floor`), so that their script can
 * be set against each other.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { haveBrowser } from "../_support/browser.ts";
import { haveNatsServer, tempDir } from "../_support/nats.ts";
import { runTroupe } from "../_support/cli.ts";

const NAME = "bench dashboard --all-visible";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

test("every card is on screen in each page's run, the rows say all_visible, both pages profiled", async () => {
  if (!run) return;
  const dir = tempDir("troupe-bench-dashboard-test-");
  try {
    const profile = join(dir.path, "profile.txt");
    const r = await runTroupe([
      "bench",
      "dashboard",
      "--all-visible",
      "--modes=troupe,floor",
      "--updates=20",
      "--rounds=1",
      "--prefill=200",
      `--profile=${profile}`,
      "--json",
    ], { timeoutMs: 90_000 });
    assert.is(r.code, 0, r.stderr);
    const log = r.stdout + r.stderr;
    for (const mode of ["troupe", "floor"]) {
      assert.match(log, new RegExp(`round 1 ${mode}: .*; 16 of 16 on screen`), log);
    }
    const rows = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Array<{ metric: string }>;
    assert.equal(rows.map((x) => x.metric), [
      "frame_ms_p50_all_visible",
      "frame_ms_p99_all_visible",
      "frame_ms_p99_vs_naive_all_visible",
      "first_draw_ms",
    ]);
    // Each page's summary: its functions by self time, the floor's copies (drawImage) among them.
    assert.match(readFileSync(profile, "utf8"), /\(idle\)/);
    assert.match(readFileSync(`${profile}.floor`, "utf8"), /drawImage/);
  } finally {
    dir.remove();
  }
});

test.run();
