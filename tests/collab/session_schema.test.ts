/**
 * The session schema on its own: checkChanged() run in a document's afterTransaction, as the
 * server's gate runs it, on changes made the way a raw Yjs client would make them.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import * as Y from "yjs";
import {
  checkChanged,
  fieldError,
  mapOf,
  SESSION_SCHEMA,
  SessionDoc,
  SessionDocError,
  setUnit,
  UNIT_LIMITS,
} from "../../collab/mod.ts";

const test = suite("session schema");

/** A document whose transactions are checked; `refused` holds the first refusal. */
function checked(
  schema = SESSION_SCHEMA,
): { doc: Y.Doc; refused: () => SessionDocError | undefined } {
  const doc = new Y.Doc();
  let refusal: SessionDocError | undefined;
  doc.on("afterTransaction", (tr: Y.Transaction) => {
    try {
      checkChanged(tr, schema);
    } catch (err) {
      refusal ??= err as SessionDocError;
    }
  });
  return { doc, refused: () => refusal };
}

function refusedWith(write: (doc: Y.Doc) => void, field: string, text: RegExp): void {
  const { doc, refused } = checked();
  write(doc);
  const err = refused();
  assert.instance(err, SessionDocError, `a refusal naming ${field}`);
  assert.is(err!.field, field);
  assert.match(err!.message, text);
}

test("every typed accessor's write fits the schema", () => {
  const { doc, refused } = checked();
  const s = new SessionDoc(doc);
  s.init();
  s.setPanel({
    id: "p1",
    kind: "chart",
    channels: ["X"],
    title: "",
    layout: { x: 0, y: 0, w: 1, h: 1 },
  });
  s.replacePanels([{
    id: "p2",
    kind: "events",
    channels: [],
    title: "e",
    layout: { x: 0, y: 1, w: 2, h: 1 },
    hidden: true,
  }]);
  s.setThreshold("anomaly", undefined, { threshold: 0.7 }, "ana");
  s.setThreshold("anomaly", "X", { threshold: 0.5, enabled: true }, "ana");
  s.addAnnotation({ id: "a1", t: 5, channel: "X", text: "here", author: "ana" });
  s.setStep({ id: "s1", title: "look", status: "doing", assignee: "ana", due: 0 });
  s.setScan({ name: "sc", channels: ["X"], params: { n: 1 } });
  s.workflow.delete("s1");
  assert.is(refused(), undefined);
});

test("a plain value where an entry belongs is refused naming the key and the value", () => {
  refusedWith(
    (d) => d.getMap("workflow").set("garbage", 42),
    "workflow.garbage",
    /must be a checklist step \{ id, title, status, assignee, due \}, got 42$/,
  );
  refusedWith(
    (d) => d.getMap("scans").set("s", "x"),
    "scans.s",
    /must be a scan definition .*, got "x"$/,
  );
});

test("an entry that fails its accessor's check is refused with that check's message", () => {
  refusedWith(
    (d) =>
      d.getMap("workflow").set("s1", {
        id: "s1",
        title: "t",
        status: "lost",
        assignee: "",
        due: 0,
      }),
    "workflow.s1.status",
    /one of todo, doing, done, skipped, got "lost"/,
  );
  refusedWith(
    (d) =>
      d.getMap("dashboard").set("p", {
        id: "q",
        kind: "chart",
        channels: [],
        title: "",
        layout: {},
      }),
    "dashboard.p.id",
    /must be "p" \(its key\), got "q"/,
  );
});

test("a change inside a threshold entry checks the fields changed, and refuses a field the schema lacks", () => {
  const { doc, refused } = checked();
  new SessionDoc(doc).setThreshold("anomaly", "X", { threshold: 0.5 }, "ana");
  // The bridge's fields are taken (the server does not check its own, but an editor may echo them).
  const entry = doc.getMap("thresholds").get("anomaly/X") as Y.Map<unknown>;
  entry.set("answered_ms", 12);
  entry.set("host", "h1");
  assert.is(refused(), undefined);
  entry.set("status", "bogus");
  assert.is(refused()?.field, "thresholds.anomaly/X.status");
  assert.match(refused()!.message, /pending, ok or error, got "bogus"/);
  const other = checked();
  new SessionDoc(other.doc).setThreshold("anomaly", "X", { threshold: 0.5 }, "ana");
  (other.doc.getMap("thresholds").get("anomaly/X") as Y.Map<unknown>).set("owner", "me");
  assert.is(other.refused()?.field, "thresholds.anomaly/X.owner");
  const bad = checked();
  (bad.doc.getMap("thresholds") as Y.Map<unknown>).set("anomaly", { settings: { z: 1 } });
  assert.is(bad.refused()?.field, "thresholds.anomaly");
  assert.match(bad.refused()!.message, /must be a map of fields, got an object/);
});

test("a list checks each entry inserted, and a keyed entry in a list or a keyless one in a map is refused", () => {
  refusedWith(
    (d) =>
      d.getArray("annotations").push([{
        id: "a1",
        t: 1,
        channel: "bad channel",
        text: "x",
        author: "a",
      }]),
    "annotations.a1.channel",
    /got "bad channel"/,
  );
  refusedWith(
    (d) => d.getArray("annotations").push([7]),
    "annotations[]",
    /an annotation .*, got 7/,
  );
  refusedWith((d) => d.getMap("workflow").set("s", new Y.Map()), "workflow.s", /got a shared type/);
  // A map written as a list: what the stock client would send for getArray("workflow").
  const list = new Y.Doc();
  list.getArray("workflow").push([1]);
  const { doc, refused } = checked();
  doc.getMap("workflow");
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(list));
  assert.is(refused()?.field, "workflow");
  assert.match(refused()!.message, /a map of entries by key, got an entry without a key/);
});

test("a key the table lacks is refused naming it; a new key is one line of the table", () => {
  refusedWith((d) => d.getMap("garbage").set("x", 1), "garbage.x", /has no key "garbage"/);
  const schema = {
    ...SESSION_SCHEMA,
    silences: mapOf((s: { until?: unknown }) => {
      if (typeof s.until !== "number") throw fieldError("silences.until", "a number", s.until);
    }, { what: "a silence", id: "id" }),
  };
  const { doc, refused } = checked(schema);
  doc.getMap("silences").set("s1", { id: "s1", until: 5 });
  assert.is(refused(), undefined);
  doc.getMap("silences").set("s2", { id: "s2", until: "soon" });
  assert.is(refused()?.field, "silences.until");
});

test("units hold a unit per channel or pattern: setUnit's writes fit, a malformed one is refused naming it", () => {
  const { doc, refused } = checked();
  const s = new SessionDoc(doc);
  setUnit(s.units, "api-latency", "ms");
  setUnit(s.units, "SYM*", "USD");
  setUnit(s.units, "SYM*", "");
  assert.is(refused(), undefined);
  assert.equal(s.units.toJSON(), { "api-latency": "ms" });
  refusedWith((d) => d.getMap("units").set("x", 42), "units.x", /a unit of 1 to 16 .*got 42/);
  refusedWith((d) => d.getMap("units").set("x", " ms"), "units.x", /no space at either end/);
  refusedWith((d) => d.getMap("units").set("x", "m".repeat(17)), "units.x", /1 to 16/);
  refusedWith((d) => d.getMap("units").set("x", "m\u0007"), "units.x", /printable/);
  refusedWith((d) => d.getMap("units").set("a.b", "ms"), "units.a.b", /keyed by a channel/);
  refusedWith((d) => d.getMap("units").set("x", new Y.Map()), "units.x", /a shared type/);
  refusedWith(
    (d) => {
      const units = d.getMap("units");
      d.transact(() => {
        for (let i = 0; i <= UNIT_LIMITS.units_max; i++) units.set(`c${i}`, "ms");
      });
    },
    "units",
    /at most 256 entries, got 257/,
  );
  assert.throws(() => setUnit(s.units, "api-latency", "m\ns"), /units.api-latency/);
  assert.is(s.units.get("api-latency"), "ms", "a refused setUnit writes nothing");
});

test("meta holds schema_version only, at most this code's", () => {
  refusedWith(
    (d) => d.getMap("meta").set("schema_version", 2),
    "meta.schema_version",
    /from 0 to 1, got 2/,
  );
  refusedWith((d) => d.getMap("meta").set("owner", "x"), "meta.owner", /absent/);
});

test.run();
