/**
 * `troupe bench dashboard --all-visible` runs each page in a window tall enough for every card
 * (the default 1600x1200 shows about 10 of 16, and cards off screen paint nothing), checks in the
 * run that every live view intersects the window, says so in each run's log line, and names its
 * rows `..._all_visible` so they are never read as the default's bar. A short run (20 updates, one
 * round, troupe and the floor): what is checked is the set-up, not the figures. The same run
 * checks that `--trace` and `--profile` cover the floor's page as well as troupe's (one run, not
 * two: a run takes about 20 s), so that where troupe's frames differ from the floor's can be read,
 * and, with `--bars`, that every card's candle strip takes the bars fed (the run waits for them)
 * and that the rows then say `_bars` too.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { haveBrowser } from "../_support/browser.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { haveNatsServer, tempDir } from "../_support/nats.ts";
import { runTroupe } from "../_support/cli.ts";

const NAME = "bench dashboard --all-visible";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

test("every card is on screen in each page's run, the rows say all_visible (and bars), and the trace and profile cover the floor's page", async () => {
  if (!run) return;
  const dir = tempDir("troupe-bench-dash-");
  const trace = join(dir.path, "trace.txt"), profile = join(dir.path, "profile.txt");
  try {
    const r = await runTroupe([
      "bench",
      "dashboard",
      "--all-visible",
      "--bars",
      "--modes=troupe,floor",
      "--updates=20",
      "--rounds=1",
      "--prefill=200",
      // The fleet pages (2,000 channels by default) are no part of what this checks.
      "--fleet=0",
      `--trace=${trace}`,
      `--profile=${profile}`,
      "--json",
    ], { timeoutMs: 90_000 });
    checkRun(r);
    for (const f of [trace, `${trace}.floor`]) {
      // 16 canvases a frame made into compositor resources: the commit, traced on each page.
      assert.match(readFileSync(f, "utf8"), /CrRendererMain .*::ProduceCanvasResource/, f);
    }
    // Each page has a profile summary of its own. Which of the floor's functions make the top
    // lines is up to the sampler: in a run of 20 updates its painting is a few ms, spread over
    // the canvas calls, and CI once found neither floorLoop nor paint among them.
    const profiles = [profile, `${profile}.floor`].map((f) => readFileSync(f, "utf8"));
    for (const p of profiles) assert.match(p, /\((idle|program)\)/);
    assert.not.equal(profiles[0], profiles[1]);
  } finally {
    dir.remove();
  }
});

function checkRun(r: { code: number | null; stdout: string; stderr: string }): void {
  assert.is(r.code, 0, r.stderr);
  const log = r.stdout + r.stderr;
  for (const mode of ["troupe", "floor"]) {
    assert.match(log, new RegExp(`round 1 ${mode}: .*; 16 of 16 on screen`), log);
  }
  const rows = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Array<{ metric: string }>;
  assert.equal(rows.map((x) => x.metric), [
    "frame_ms_p50_all_visible_bars",
    "frame_ms_p99_all_visible_bars",
    "frame_ms_p99_vs_naive_all_visible_bars",
    "first_draw_ms",
  ]);
}

test.run();
