/**
 * Where a chart draws regime levels (collab/web/browser/plot/regimes.ts), as the live view and uPlot's
 * pinned view both draw them: each regime's mean over the span it held, clipped to the window.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { eachRegime } from "../../../collab/web/browser/plot/regimes.ts";
import type { LiveMarker } from "../../../collab/web/browser/plot/live_plot.ts";

const test = suite("dashboard regime levels");

const change = (t: number, before: number, after: number, seen: number, levelBefore = NaN) => ({
  t,
  y: after,
  before,
  levelBefore,
  seen,
  text: "up",
  color: "#ffb347",
});

function spans(changes: LiveMarker[], min: number, max: number): number[][] {
  const out: number[][] = [];
  eachRegime(changes, min, max, (t0, t1, y) => out.push([t0, t1, y]));
  return out;
}

test("the level before the first change over its confirmation's span, each between two changes at the later's mean before, the last to its confirmation", () => {
  const changes = [change(100, 10, 20, 103, 11), change(150, 21, 30, 155)];
  assert.equal(spans(changes, 50, 500), [[97, 100, 11], [100, 150, 21], [150, 155, 30]]);
  // Never from the window's left edge: the first regime's start is not known.
  assert.equal(spans(changes, -86_400, 99)[0], [97, 99, 11]);
  // A window after the last confirmation shows no level at all (units31 drew 30 across it).
  assert.equal(spans(changes, 200, 500), []);
  // A window inside a regime shows it across, and nothing else.
  assert.equal(spans(changes, 110, 140), [[110, 140, 21]]);
});

test("a change without its means or confirmation draws no level where it has none", () => {
  const bare = [{ t: 100, y: 5, text: "up", color: "#ffb347" }];
  assert.equal(spans(bare, 0, 500), []);
  assert.equal(spans([change(100, 7, 5, 120)], 0, 500), [[100, 120, 5]]);
});

test.run();
