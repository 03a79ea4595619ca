import { suite } from "uvu";
import * as assert from "uvu/assert";
import * as Y from "yjs";
import { SCHEMA_VERSION, SessionDoc, SessionDocError } from "../../collab/mod.ts";
import { throwsField } from "./_throws_field.ts";

const test = suite("session document");

const panel = {
  id: "p1",
  kind: "chart" as const,
  channels: ["BTC-USD"],
  title: "Bitcoin",
  layout: { x: 0, y: 0, w: 6, h: 4 },
};

test("init() stamps the schema version and refuses a newer one", () => {
  const s = new SessionDoc();
  assert.is(s.schemaVersion(), 0);
  s.init();
  assert.is(s.schemaVersion(), SCHEMA_VERSION);
  s.meta.set("schema_version", SCHEMA_VERSION + 1);
  throwsField(() => s.init(), "meta.schema_version", `newer than this code's ${SCHEMA_VERSION}`);
});

test("typed accessors write and read every part of the document", () => {
  const s = new SessionDoc();
  s.setPanel(panel);
  s.setThreshold("anomaly", "BTC-USD", { z: 4.5, enabled: true }, "ana");
  s.setThreshold("anomaly", undefined, { z: 5 }, "bo");
  s.addAnnotation({ id: "a1", t: 1000, channel: "BTC-USD", text: "spike", author: "ana" });
  s.setStep({ id: "s1", title: "check feed", status: "doing", assignee: "bo", due: 0 });
  s.setScan({ name: "breakouts", channels: ["BTC-USD", "ETH-USD"], params: { window: 20 } });
  assert.equal(s.panels(), [panel]);
  assert.equal(s.threshold("anomaly", "BTC-USD"), {
    kind: "anomaly",
    channel: "BTC-USD",
    settings: { z: 4.5, enabled: true },
    by: "ana",
    status: "pending",
    reason: undefined,
    applied: undefined,
    host: undefined,
  });
  assert.equal(s.threshold("anomaly")?.settings, { z: 5 });
  assert.is(s.annotationList()[0]?.text, "spike");
  assert.is(s.steps()[0]?.status, "doing");
  assert.equal(s.scan("breakouts")?.params, { window: 20 });
});

test("a bad value is refused naming the field and the value, and nothing is written", () => {
  const s = new SessionDoc();
  throwsField(
    () => s.setPanel({ ...panel, kind: "pie" as "chart" }),
    "dashboard.p1.kind",
    'got "pie"',
  );
  throwsField(
    () => s.setPanel({ ...panel, channels: ["a.b"] }),
    "dashboard.p1.channels[0]",
    '"a.b"',
  );
  throwsField(
    () => s.setPanel({ ...panel, layout: { x: 0, y: 0, w: 0, h: 1 } }),
    "dashboard.p1.layout.w",
    "got 0",
  );
  throwsField(
    () => s.setThreshold("anomaly", "BTC", { z: NaN }, "ana"),
    "thresholds.anomaly/BTC.settings.z",
    "got NaN",
  );
  throwsField(
    () => s.setThreshold("anomaly", "BTC", {}, "ana"),
    "thresholds.anomaly/BTC.settings",
    "1 to 32",
  );
  throwsField(
    () => s.addAnnotation({ id: "a", t: -1, channel: "x", text: "t", author: "a" }),
    "annotations.a.t",
    "got -1",
  );
  throwsField(
    () => s.setStep({ id: "s", title: "t", status: "later" as "todo", assignee: "", due: 0 }),
    "workflow.s.status",
    'got "later"',
  );
  throwsField(
    () => s.setScan({ name: "x y", channels: [], params: { a: 1 } }),
    "scans.name",
    '"x y"',
  );
  assert.is(s.dashboard.size + s.thresholds.size + s.annotations.length + s.workflow.size, 0);
  assert.is(s.scans.size, 0);
});

test("two replicas edited apart converge when they exchange updates (any order)", () => {
  const a = new SessionDoc(), b = new SessionDoc();
  a.setThreshold("anomaly", "BTC", { z: 4 }, "ana");
  b.setThreshold("anomaly", "ETH", { z: 3 }, "bo");
  a.addAnnotation({ id: "a1", t: 1, channel: "BTC", text: "from a", author: "ana" });
  b.addAnnotation({ id: "b1", t: 2, channel: "ETH", text: "from b", author: "bo" });
  const ua = Y.encodeStateAsUpdate(a.doc, Y.encodeStateVector(b.doc));
  const ub = Y.encodeStateAsUpdate(b.doc, Y.encodeStateVector(a.doc));
  Y.applyUpdate(b.doc, ua);
  Y.applyUpdate(a.doc, ub);
  assert.equal(Y.encodeStateAsUpdate(a.doc).length, Y.encodeStateAsUpdate(b.doc).length);
  assert.equal(a.doc.toJSON(), b.doc.toJSON());
  assert.is(a.annotationList().length, 2);
  assert.equal(a.threshold("anomaly", "ETH")?.settings, { z: 3 });
});

test("replacePanels() writes every panel or none, and keeps a hidden panel's flag", () => {
  const s = new SessionDoc();
  const p = (id: string, y: number, hidden?: boolean) => ({
    id,
    kind: "chart" as const,
    channels: [id.toUpperCase()],
    title: "",
    layout: { x: 0, y, w: 1, h: 1 },
    ...(hidden === undefined ? {} : { hidden }),
  });
  s.setPanel(p("old", 0));
  s.replacePanels([p("a", 1), p("b", 0, true), p("c", 2, false)]);
  assert.equal(s.panels().map((x) => [x.id, x.layout.y, x.hidden]), [
    ["a", 1, undefined],
    ["b", 0, true],
    ["c", 2, undefined],
  ]);
  assert.throws(
    () => s.replacePanels([p("d", 0), { ...p("e", 1), hidden: "yes" as unknown as boolean }]),
    (e: unknown) => e instanceof SessionDocError && e.field === "dashboard.e.hidden",
  );
  assert.equal(s.panels().map((x) => x.id), ["a", "b", "c"], "nothing written");
});

test('the readers leave out entries stored before the server checked writes (a step of 42 is not a step "undefined")', () => {
  const s = new SessionDoc();
  s.setStep({ id: "s1", title: "look", status: "todo", assignee: "", due: 0 });
  s.setPanel(panel);
  s.addAnnotation({ id: "a1", t: 1, channel: "BTC-USD", text: "x", author: "a" });
  // What a raw Yjs client could store on a server without the schema.
  (s.workflow as Y.Map<unknown>).set("garbage", 42);
  (s.workflow as Y.Map<unknown>).set("half", { id: "half" });
  (s.dashboard as Y.Map<unknown>).set("p9", { id: "p9", kind: "pie" });
  (s.annotations as Y.Array<unknown>).push([null, { id: "a2" }]);
  assert.equal(s.steps().map((x) => x.id), ["s1"]);
  assert.equal(s.panels().map((x) => x.id), ["p1"]);
  assert.equal(s.annotationList().map((x) => x.id), ["a1"]);
});

test.run();
