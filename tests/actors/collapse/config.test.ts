import { suite } from "uvu";
import * as assert from "uvu/assert";
import { defaultCollapseConfig, parseCollapseConfig } from "../../../actors/collapse/config.ts";
import { ConfigError } from "../../../protocol/mod.ts";

const test = suite("collapse config");
const base = { ...defaultCollapseConfig };

function fails(raw: unknown, field: string, message: RegExp): void {
  try {
    parseCollapseConfig(raw, base, "actors.collapse");
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.is(err.field, field);
    assert.match(err.message, message);
    return;
  }
  assert.unreachable(`${JSON.stringify(raw)} was accepted`);
}

test("parseCollapseConfig() keeps base values for absent fields and reads the given ones", () => {
  assert.equal(parseCollapseConfig({}, base, "actors.collapse"), base);
  const c = parseCollapseConfig({ hazard: 0.01, runs_max: 64 }, base, "actors.collapse");
  assert.is(c.hazard, 0.01);
  assert.is(c.runs_max, 64);
  assert.is(c.confirm_threshold, base.confirm_threshold);
});

test("parseCollapseConfig() rejects an unknown field, naming its path", () => {
  fails({ hazzard: 0.01 }, "actors.collapse.hazzard", /Unknown field "actors.collapse.hazzard"/);
});

test("parseCollapseConfig() rejects out-of-range and mistyped values with the field and value", () => {
  fails({ hazard: 0 }, "actors.collapse.hazard", /must be >= .*got 0/);
  fails({ hazard: 1 }, "actors.collapse.hazard", /must be <= .*got 1/);
  fails({ runs_max: 1 }, "actors.collapse.runs_max", /must be >= 2, got 1/);
  fails({ runs_max: 10.5 }, "actors.collapse.runs_max", /must be an integer, got 10.5/);
  fails({ outlier_prob: "x" }, "actors.collapse.outlier_prob", /finite number, got "x"/);
  fails({ gap_factor: 0.5 }, "actors.collapse.gap_factor", /0 \(off\) or >= 1, got 0.5/);
  fails({ slope_prior: -0.1 }, "actors.collapse.slope_prior", /must be >= 0, got -0.1/);
  fails({ slope_carry: 2 }, "actors.collapse.slope_carry", /must be <= 1, got 2/);
  fails({ slope_carry: 0.5 }, "actors.collapse.slope_carry", /must be an integer, got 0.5/);
  fails({ level_drift: -1 }, "actors.collapse.level_drift", /must be >= 0, got -1/);
  fails({ confirm_samples: 0 }, "actors.collapse.confirm_samples", /must be >= 1, got 0/);
  fails({ confirm_samples: 2.5 }, "actors.collapse.confirm_samples", /must be an integer/);
  fails({ season_us: -1 }, "actors.collapse.season_us", /must be >= 0, got -1/);
  fails({ season_harmonics: 0 }, "actors.collapse.season_harmonics", /must be >= 1, got 0/);
  fails({ season_harmonics: 5 }, "actors.collapse.season_harmonics", /must be <= 4, got 5/);
  fails({ season_harmonics: 1.5 }, "actors.collapse.season_harmonics", /must be an integer/);
  fails({ season_weekend: 2 }, "actors.collapse.season_weekend", /must be <= 1, got 2/);
  fails({ season_weekend: 0.5 }, "actors.collapse.season_weekend", /must be an integer/);
  fails({ ar_max: 0.99 }, "actors.collapse.ar_max", /must be <= 0.95, got 0.99/);
  fails({ ar_max: -0.1 }, "actors.collapse.ar_max", /must be >= 0, got -0.1/);
  fails([], "actors.collapse", /must be an object/);
});

test("parseCollapseConfig() rejects a suspect threshold above the confirm threshold", () => {
  fails(
    { suspect_threshold: 0.9, confirm_threshold: 0.8 },
    "actors.collapse.suspect_threshold",
    /must be <= confirm_threshold \(0.8\), got 0.9/,
  );
});

test.run();
