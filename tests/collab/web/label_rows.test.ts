/**
 * Where the labels of overlapping incident bands go (collab/web/browser/chart/label_rows.ts): each on
 * the first row where it clears the labels there, never over another; past the rows that fit,
 * none (on the code before, every third band's label went back to the first row, over the first's).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { labelRows } from "../../../collab/web/browser/chart/label_rows.ts";

const test = suite("incident label rows");

test("labels that clear each other share a row; overlapping ones stack", () => {
  const w = 30;
  assert.equal(labelRows([{ x: 0, width: w }, { x: 40, width: w }], { rowsMax: 4, gapPx: 4 }), [
    0,
    0,
  ]);
  // Four bands 8 px apart: four rows (the code before put the fourth on the first's row).
  const four = [0, 8, 16, 24].map((x) => ({ x, width: w }));
  assert.equal(labelRows(four, { rowsMax: 4, gapPx: 4 }), [0, 1, 2, 3]);
  // A later label goes up to the first row it clears.
  assert.equal(labelRows([...four, { x: 60, width: w }], { rowsMax: 4, gapPx: 4 }), [
    0,
    1,
    2,
    3,
    0,
  ]);
  // The gap counts: 2 px apart is too close at 4.
  assert.equal(labelRows([{ x: 0, width: w }, { x: 32, width: w }], { rowsMax: 4, gapPx: 4 }), [
    0,
    1,
  ]);
  assert.equal(labelRows([{ x: 0, width: w }, { x: 32, width: w }], { rowsMax: 4, gapPx: 1 }), [
    0,
    0,
  ]);
});

test("no more rows than fit: a label with none left is not drawn (-1)", () => {
  const same = [0, 0, 0].map((x) => ({ x, width: 30 }));
  assert.equal(labelRows(same, { rowsMax: 2, gapPx: 4 }), [0, 1, -1]);
  assert.equal(labelRows([], { rowsMax: 2, gapPx: 4 }), []);
});

test.run();
