/**
 * askIncidentList() asks the incident stage on the bus what it holds, as `troupe incidents` does,
 * and says when no stage runs (no responders) rather than waiting out its timeout.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  askIncidentList,
  defaultIncidentConfig,
  readIncidentFinding,
  runIncidentStage,
} from "../../../actors/incidents/mod.ts";
import { InProcessBus } from "../../../actors/runtime/mod.ts";
import { BusRequestError } from "../../../protocol/mod.ts";
import { anomalyFinding } from "../../_support/findings.ts";

const test = suite("ask incident list");

const T0 = 1_800_000_000_000_000;

test("askIncidentList() gets the incidents the stage holds, members and all", async () => {
  const bus = new InProcessBus();
  const config = { ...defaultIncidentConfig, for_us: 0, reorder_us: 0, group_window_us: 1e6 };
  const { stage, stop } = runIncidentStage(bus, { config });
  try {
    const options = { timeoutMs: 2000, src: "test", nowMs: Date.now() };
    assert.equal(await askIncidentList(bus, options), []);
    for (const ch of ["SYM1", "SYM2"]) {
      stage.takeFinding(readIncidentFinding(anomalyFinding(ch, T0))!);
    }
    stage.flush(T0 + 10_000);
    const listed = await askIncidentList(bus, options);
    const held = stage.list();
    assert.is(held.length, 1);
    assert.equal(listed.map((i) => [i.id, i.state, i.findings]), [
      [held[0]!.id, held[0]!.state, 2],
    ]);
    assert.equal(listed[0]!.members.map((m) => m.channel), ["SYM1", "SYM2"]);
  } finally {
    stop();
    await bus.close();
  }
});

test("askIncidentList() fails with no responders when no stage runs", async () => {
  const bus = new InProcessBus();
  try {
    const err = await askIncidentList(bus, { timeoutMs: 2000, src: "test", nowMs: Date.now() })
      .then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof BusRequestError, String(err));
    assert.ok(err.noResponders);
  } finally {
    await bus.close();
  }
});

test.run();
