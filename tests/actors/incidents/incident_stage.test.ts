/**
 * The incident stage reads each finding's body with its kind's decoder (protocol/events/): an
 * event whose body does not decode opens nothing and goes to the dead letters, naming the field.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  defaultIncidentConfig,
  incidentEventOf,
  runIncidentStage,
} from "../../../actors/incidents/mod.ts";
import { decodeDeadLetter, InProcessBus } from "../../../actors/runtime/mod.ts";
import {
  type AnomalyBody,
  areaPattern,
  type CollapseBody,
  decodeIncident,
  encodeAnomaly,
  encodeCollapse,
  encodeEnvelope,
  findingSubject,
  type Incident,
  incidentSubject,
  ProtocolError,
  registerKindFindings,
} from "../../../protocol/mod.ts";

const test = suite("incident stage");
const T0 = 1_800_000_000_000_000;

const BODY: CollapseBody = {
  channel: "SYM001",
  change_ts: T0,
  change_index: 100,
  delay_samples: 5,
  mean_before: 100,
  mean_after: 80,
  level_before: 100,
  level_after: 80,
  spread_before: 1,
  spread_after: 2,
  direction: "down",
  severity: 9,
};

test("runIncidentStage() dead-letters an event whose body does not decode, naming the field, and opens nothing on it", async () => {
  const bus = new InProcessBus();
  const { stage, stop } = runIncidentStage(bus, { config: defaultIncidentConfig });
  const letters: Uint8Array[] = [];
  bus.subscribe(areaPattern("dlq"), (m) => letters.push(m.data));
  try {
    const subject = findingSubject("collapse", "SYM001");
    const meta = { id: "bad", type: "collapse", src: "collapse/SYM001", ts: T0 + 5_000_000 };
    bus.publish(subject, encodeEnvelope({ ...meta, body: { ...BODY, change_ts: "soon" } }));
    await bus.flush();
    assert.is(letters.length, 1);
    const letter = decodeDeadLetter(letters[0]!);
    assert.is(letter.reason, "value");
    assert.is(letter.field, "change_ts");
    assert.is(letter.subject, subject);
    assert.is(letter.actor, "incidents");
    assert.match(letter.error, 'field "change_ts" must be an integer, got "soon"');
    stage.flush();
    assert.equal(stage.list(), []);

    bus.publish(subject, encodeCollapse({ id: "good", src: meta.src, ts: meta.ts }, BODY));
    await bus.flush();
    assert.is(letters.length, 1, "a good body is no dead letter");
    stage.flush(); // the findings held for ordering
    assert.equal(stage.list().map((i) => [i.kind, i.first_us]), [["collapse", T0 + 5_000_000]]);
  } finally {
    stop();
    await bus.close();
  }
});

test("incidentEventOf() reads a user's finding through its declaration: its check, channel and measure", () => {
  registerKindFindings("vetted", [{
    type: "vetted_hit",
    measure: "m",
    edges: [1, 2, 3, 4],
    unit: "",
    check(body) {
      const b = body as Record<string, unknown>;
      if (b.ok !== true) {
        throw new ProtocolError("field", `Cannot read a vetted_hit: field "ok" must be true`);
      }
      return b;
    },
  }]);
  assert.equal(incidentEventOf("vetted_hit", { channel: "a", m: 2.5, ok: true }), {
    kind: "vetted_hit",
    body: { channel: "a", m: 2.5, ok: true },
  });
  assert.throws(
    () => incidentEventOf("vetted_hit", { channel: "a", m: 2.5, ok: false }),
    /field "ok" must be true/,
  );
  assert.throws(() => incidentEventOf("vetted_hit", { channel: "a", ok: true }), /field "m"/);
  assert.throws(() => incidentEventOf("never_declared", {}), /no kind declares it/);
  // troupe's own findings come through the same door: their wire decoder is their check.
  assert.throws(() => incidentEventOf("collapse", { ...BODY, change_ts: "soon" }), /change_ts/);
});

test("a restated anomaly finding joins its channel's incident, raising its peak, and opens none alone", async () => {
  const bus = new InProcessBus();
  const { stage, stop } = runIncidentStage(bus, { config: defaultIncidentConfig });
  const updates: Incident[] = [];
  bus.subscribe(incidentSubject("anomaly"), (m) => updates.push(decodeIncident(m.data).incident));
  const body = { score: 0.9, value: 0.29, expected: 0.02, lower: 0.005, upper: 0.035 };
  const publish = (id: string, channel: string, ts: number, b: AnomalyBody) =>
    bus.publish(
      findingSubject("anomaly", channel),
      encodeAnomaly({ id, src: `anomaly/${channel}`, ts }, b),
    );
  try {
    publish("open", "cpu0", T0, { channel: "cpu0", ...body });
    const restated = { ...body, score: 0.1, value: 1, lower: -0.001, upper: 0.041 };
    publish("again", "cpu0", T0 + 5_000_000, { channel: "cpu0", ...restated, restated: true });
    // Another channel's restatement, its incident unknown here: it opens nothing.
    publish("alone", "cpu1", T0 + 6_000_000, { channel: "cpu1", ...restated, restated: true });
    await bus.flush();
    stage.flush(); // past the reorder bound
    await bus.flush();
    assert.equal([...new Set(updates.map((u) => u.id))], [`anomaly-${T0}-cpu0`]);
    const last = updates[updates.length - 1]!;
    assert.is(last.findings, 2);
    assert.equal(last.members.map((m) => m.channel), ["cpu0"]);
    const bits = last.members[0]!.peak!.bits!;
    assert.ok(Math.abs(bits - 2 * Math.log2(0.98 / 0.007)) < 1e-9, String(bits));
    assert.is(last.members[0]!.peak!.value, 1);
  } finally {
    stop();
  }
});

/** The folders that must name no kind of troupe's own (the kinds come in through the registry). */
const KIND_FREE = ["actors/runtime", "actors/incidents", "actors/alerting", "actors/threads"];

test("nothing in the runtime, the incident stage, alerting or the threads names a built-in kind", () => {
  const root = fileURLToPath(new URL("../../../", import.meta.url));
  const named =
    /["'`](anomaly|collapse|coherence|bars|stats|scan)["'`]|\b(ANOMALY|COLLAPSE|COHERENCE)_|actors\/(anomaly|collapse|coherence|bars|scan|stats)\//;
  const found: string[] = [];
  for (const dir of KIND_FREE) {
    for (const file of readdirSync(join(root, dir), { recursive: true }) as string[]) {
      if (!file.endsWith(".ts")) continue;
      const lines = readFileSync(join(root, dir, file), "utf8").split("\n");
      lines.forEach((line, i) => {
        const code = line.trim();
        if (code.startsWith("*") || code.startsWith("//") || code.startsWith("/*")) return;
        if (named.test(code)) found.push(`${dir}/${file}:${i + 1}: ${code}`);
      });
    }
  }
  assert.equal(found, []);
});

test.run();
