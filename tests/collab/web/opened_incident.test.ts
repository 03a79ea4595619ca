/**
 * The incident a chart was opened at (collab/web/browser/chart/_opened_incident.ts) takes the stage's
 * updates of it: a copy further along replaces it, an older one or another incident's does not,
 * and the update that resolves it says so (the chart then shows its span with its margin, and
 * stops following the samples).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { OpenedIncident } from "../../../collab/web/browser/chart/_opened_incident.ts";
import type { Incident, IncidentState } from "../../../protocol/mod.ts";

const test = suite("opened incident");
const S = 1_000_000;

const incident = (state: IncidentState, last: number, findings: number): Incident => ({
  id: "anomaly-1000000000-X",
  kind: "anomaly",
  state,
  fired: true,
  silenced: false,
  members: [],
  first_us: 1000 * S,
  last_us: last * S,
  first_finding: "f-1",
  last_finding: `f-${findings}`,
  findings,
  peak_severity: 4,
  links: [],
});

test("update() takes a copy further along, says when it resolved, and ignores the rest", () => {
  const o = new OpenedIncident(incident("firing", 1030, 3), 1000);
  assert.ok(o.follows);
  assert.is(o.update({ ...incident("firing", 1040, 4), id: "other" }), "none");
  assert.is(o.update(incident("pending", 1020, 2)), "none", "an older copy");
  assert.is(o.update(incident("firing", 1040, 4)), "updated");
  assert.equal(o.window(1050), { min: 940, max: 1050 });
  assert.is(o.band().t1, 1040);
  assert.ok(o.band().open);
  assert.is(o.update(incident("resolved", 1040, 4)), "resolved");
  assert.not.ok(o.follows);
  assert.equal(o.window(5000), { min: 940, max: 1100 });
  assert.not.ok(o.band().open);
  assert.is(o.update(incident("resolved", 1040, 4)), "updated", "resolved once");
});

test("a window the user moved away from is not followed", () => {
  const o = new OpenedIncident(incident("firing", 1030, 3), 1000);
  o.windowed = false;
  assert.not.ok(o.follows);
});

test.run();
