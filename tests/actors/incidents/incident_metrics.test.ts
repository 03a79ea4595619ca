import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Registry } from "prom-client";
import {
  defaultIncidentConfig,
  IncidentStage,
  registerIncidentMetrics,
} from "../../../actors/incidents/mod.ts";
import { encodeEventEnvelope } from "../../../protocol/mod.ts";

const test = suite("incident metrics");
const TS = 1_800_000_000_000_000;

function finding(type: "anomaly" | "collapse", channel: string, ts: number): Uint8Array {
  const body = type === "anomaly"
    ? { channel, score: 0.95, value: 1, expected: 1, lower: 0, upper: 2 }
    : {
      channel,
      change_ts: ts - 5_000,
      change_index: 5,
      delay_samples: 5,
      mean_before: 1,
      mean_after: 2,
      level_before: 1,
      level_after: 2,
      spread_before: 0.1,
      spread_after: 0.1,
      direction: "up",
      severity: 9,
    };
  return encodeEventEnvelope({ id: `${type}-${channel}-${ts}`, type, src: "t", ts }, {
    type,
    ts,
    ...body,
  });
}

test("/metrics counts incidents by state and kind: open now, and each state reached", async () => {
  const registry = new Registry();
  const stage = new IncidentStage({ config: defaultIncidentConfig, publish: () => {} });
  registerIncidentMetrics(registry, stage);
  for (let i = 0; i < 8; i++) stage.take(finding("anomaly", `S${i}`, TS + i * 100_000));
  stage.take(finding("collapse", "S1", TS + 500_000));
  stage.take(finding("anomaly", "LATER", TS + 61_000_000)); // past the crash's minute
  stage.take(finding("collapse", "LATER", TS + 64_000_000));
  const text = await registry.metrics();
  const value = (name: string, state: string, kind: string) => {
    const m = text.match(new RegExp(`^${name}\\{state="${state}",kind="${kind}"\\} (\\d+)$`, "m"));
    assert.ok(m, `${name}{state="${state}",kind="${kind}"} in\n${text}`);
    return Number(m![1]);
  };
  // Event time is now 64 s - the 2 s reorder bound = 62 s: the crash and S1's collapse fired and
  // resolved; LATER's anomaly (61 s) is pending (it would fire at 63 s); LATER's collapse is held.
  // A `_total` name is a counter to Prometheus; the open count is a gauge.
  assert.match(text, /^# TYPE troupe_incidents_total counter$/m);
  assert.match(text, /^# TYPE troupe_incidents gauge$/m);
  assert.is(value("troupe_incidents_total", "pending", "anomaly"), 2);
  assert.is(value("troupe_incidents_total", "firing", "anomaly"), 1);
  assert.is(value("troupe_incidents_total", "resolved", "anomaly"), 1);
  assert.is(value("troupe_incidents", "pending", "anomaly"), 1);
  assert.is(value("troupe_incidents", "firing", "anomaly"), 0);
  assert.is(value("troupe_incidents_total", "pending", "collapse"), 1);
  assert.is(value("troupe_incidents_total", "resolved", "collapse"), 1);
  assert.is(value("troupe_incidents", "pending", "collapse"), 0);
  assert.is(value("troupe_incidents", "firing", "coherence"), 0);
  stage.take(finding("collapse", "LATEST", TS + 71_000_000));
  const after = await registry.metrics();
  assert.match(after, 'troupe_incidents{state="firing",kind="anomaly"} 1');
  assert.match(after, 'troupe_incidents{state="firing",kind="collapse"} 1');
});

test.run();
