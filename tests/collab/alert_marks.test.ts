/**
 * Where an incident stands with each alert target, as `troupe incidents` shows it: a mark on its
 * line per target that holds it, and in its JSON every target, "none" where one does not.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { alertMarks, alertsJson } from "../../collab/mod.ts";
import type { AlertTargetDelivery } from "../../protocol/mod.ts";

const test = suite("alert marks");

const delivery: AlertTargetDelivery[] = [
  { target: "http://am-1:9093", kind: "alertmanager", incidents: { "a-1": "sent", "a-2": "owed" } },
  { target: "http://hook:8080/in", kind: "webhook", incidents: { "a-2": "refused" } },
];

test("alertMarks() marks the line once per target that holds the incident, none without delivery", () => {
  assert.equal(alertMarks(delivery, "a-2"), [
    "alertmanager http://am-1:9093 owed",
    "webhook http://hook:8080/in refused",
  ]);
  assert.equal(alertMarks(delivery, "a-1"), ["alertmanager http://am-1:9093 sent"]);
  assert.equal(alertMarks(delivery, "a-9"), []);
  assert.equal(alertMarks(undefined, "a-1"), []);
});

test("alertsJson() names every target, none where the target does not hold the incident", () => {
  assert.equal(alertsJson(delivery, "a-1"), {
    "http://am-1:9093": "sent",
    "http://hook:8080/in": "none",
  });
});

test.run();
