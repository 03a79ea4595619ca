import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { crossValidate } from "../../bench/_cpd_cv.ts";
import { defaultCollapseConfig } from "../../actors/collapse/mod.ts";
import { Prng } from "../../sim/prng/mod.ts";

const test = suite("cpd_cv");

/** A TCPD-format directory of the given series (raw values) and annotations, in a temp folder. */
function tcpdDir(
  series: Record<string, number[]>,
  annotations: Record<string, Record<string, number[]>>,
): string {
  const dir = mkdtempSync(join(tmpdir(), "troupe-cpd-cv-"));
  for (const [name, raw] of Object.entries(series)) {
    mkdirSync(join(dir, "datasets", name), { recursive: true });
    const doc = {
      name,
      n_obs: raw.length,
      n_dim: 1,
      time: { index: raw.map((_, i) => i) },
      series: [{ label: "V1", type: "float", raw }],
    };
    writeFileSync(join(dir, "datasets", name, `${name}.json`), JSON.stringify(doc));
  }
  writeFileSync(join(dir, "annotations.json"), JSON.stringify(annotations));
  return dir;
}

test("with one series a half, leave-one-out is the mean of the two held-out halves", () => {
  // Leave-one-out chooses on the other series, which is then the other half: the same choices
  // as the 2-fold cross-validation, so the figures must agree.
  const rng = new Prng("cpd-cv");
  const shift = Array.from({ length: 300 }, (_, i) => rng.normal() + (i >= 150 ? 4 : 0));
  const trend = Array.from({ length: 300 }, (_, i) => rng.normal() + 0.02 * i);
  const dir = tcpdDir(
    { shift, trend },
    { shift: { "1": [150], "2": [151] }, trend: { "1": [], "2": [100] } },
  );
  try {
    const r = crossValidate(dir, { base: defaultCollapseConfig });
    assert.equal([r.halfA, r.halfB], [["shift"], ["trend"]]);
    assert.ok(r.fitA && r.fitB);
    assert.ok(Math.abs(r.looF1 - (r.fitA.f1B + r.fitB.f1A) / 2) < 1e-12, `${r.looF1}`);
    assert.ok(r.looChosen.length >= 1 && r.looChosen.length <= 2);
    const none = crossValidate(dir, { base: defaultCollapseConfig, admissible: () => false });
    assert.ok(Number.isNaN(none.looF1));
    assert.equal(none.looChosen, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
