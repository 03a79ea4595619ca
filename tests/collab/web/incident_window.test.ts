/**
 * The window a card opened at an incident shows (collab/web/browser/chart/_chart_past.ts
 * incidentWindow): a resolved incident's span with half its length each side, a minute at least;
 * one still firing or pending has no end yet, and its window ends at now (on the code before, a
 * minute past its last finding: the s36 screenshot's ~55 s of future).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { incidentWindow } from "../../../collab/web/browser/chart/_chart_past.ts";
import type { Incident, IncidentState } from "../../../protocol/mod.ts";

const test = suite("incident window");
const S = 1_000_000;

const incident = (state: IncidentState, first: number, last: number): Incident => ({
  id: `anomaly-${first * S}-X`,
  kind: "anomaly",
  state,
  fired: true,
  silenced: false,
  members: [],
  first_us: first * S,
  last_us: last * S,
  first_finding: "f-1",
  last_finding: "f-2",
  findings: 2,
  peak_severity: 4,
  links: [],
});

test("a resolved incident: its span, half its length (a minute at least) each side", () => {
  assert.equal(incidentWindow(incident("resolved", 1000, 1030), { tS: 1000, nowS: 5000 }), {
    min: 940,
    max: 1090,
  });
  assert.equal(incidentWindow(incident("resolved", 1000, 1600), { tS: 1000, nowS: 5000 }), {
    min: 700,
    max: 1900,
  });
});

test("a firing or pending incident: up to now, never past it", () => {
  // Last finding 10 s ago: before, up to 50 s into the future.
  for (const state of ["firing", "pending"] as const) {
    assert.equal(incidentWindow(incident(state, 1000, 1030), { tS: 1000, nowS: 1040 }), {
      min: 940,
      max: 1040,
    });
  }
  // Opened long after: its span runs to now, the margin before it from that.
  assert.equal(incidentWindow(incident("firing", 1000, 1030), { tS: 1000, nowS: 1600 }), {
    min: 700,
    max: 1600,
  });
  // A clock behind the incident's last finding: its last finding all the same.
  assert.equal(incidentWindow(incident("firing", 1000, 1030), { tS: 1000, nowS: 1020 }), {
    min: 940,
    max: 1030,
  });
});

test.run();
