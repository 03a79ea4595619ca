/**
 * The public door for kinds: `defineKind` checks what it is given and makes a definition the host
 * runs; the findings a kind declares become incidents on its own scale, as troupe's own do; the
 * built-in kinds come in through the same door; sample randomness is fixed by the sample.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ACTOR_KINDS } from "../../../actors/mod.ts";
import { channelHash, defineKind, kindRegistry, sampleRandom } from "../../../actors/kind/mod.ts";
import { incidentFindingOf } from "../../../actors/incidents/mod.ts";
import {
  ConfigError,
  encodeEventEnvelope,
  findingActors,
  findingKindOf,
  registerFindingKind,
} from "../../../protocol/mod.ts";
import { runKind } from "../../../sim/kit/mod.ts";

const test = suite("defineKind");

const T0 = 1_700_000_000_000_000;

function tiny(kind: string, findingType = `${kind}_hit`, feeds?: "any" | "markets") {
  return defineKind({
    ...(feeds ? { feeds } : {}),
    kind,
    version: 2,
    config: { level: { type: "number", default: 5, min: 0 } },
    findings: [{ type: `${kind}_hit`, measure: "x", edges: [1, 2, 3, 4], unit: "units" }],
    kernel: {
      init: (config) => ({ level: config.level }),
      configure: (s, config) => {
        s.level = config.level;
      },
      step: (s, frame) => ({
        findings: [...frame.v].flatMap((x, i) =>
          x > s.level ? [{ type: findingType, ts: frame.t[i]!, channel: frame.channel, x }] : []
        ),
      }),
      save: (s) => new Uint8Array(new Float64Array([s.level]).buffer),
      load: (b) => ({ level: new Float64Array(b.slice().buffer)[0]! }),
    },
  });
}

const frame = (v: number[]) => ({
  channel: "c",
  seq0: 0,
  t: new Float64Array(v.map((_, i) => T0 + i)),
  v: new Float64Array(v),
});

test("a defined kind runs as a host runs it and publishes its findings", () => {
  const def = tiny("tiny");
  assert.is(def.version, 2);
  assert.equal(def.defaultConfig, { level: 5 });
  const out = runKind(def, [frame([1, 7, 2, 9])])[0]!.outputs;
  assert.equal(out.map((o) => [o.subject, o.type]), [
    ["troupe.finding.tiny_hit.c", "tiny_hit"],
    ["troupe.finding.tiny_hit.c", "tiny_hit"],
  ]);
  assert.ok(findingActors().includes("tiny"));
});

test("its configuration is checked at start and on a change, naming the field and value", () => {
  const def = tiny("tinycfg");
  assert.equal(def.parseConfig({ level: 2 }, def.defaultConfig, "actors.tinycfg"), { level: 2 });
  assert.throws(
    () => def.parseConfig({ level: -1 }, def.defaultConfig, "ctl.tinycfg"),
    (e: unknown) => e instanceof ConfigError && e.field === "ctl.tinycfg.level",
  );
  assert.throws(
    () => def.parseConfig({ levle: 1 }, def.defaultConfig, "ctl.tinycfg"),
    /Unknown field "ctl\.tinycfg\.levle"; known fields: level/,
  );
});

test("a finding of a type the kind does not declare fails the step, naming it", () => {
  const def = tiny("tinybad", "surprise");
  assert.throws(
    () => runKind(def, [frame([9])]),
    (e: unknown) => /does not declare/.test(String((e as Error).cause ?? e)),
  );
});

test("a kind says the feeds it is for: any by default, markets where it says so", () => {
  assert.is(tiny("tinyfeeds").feeds, undefined);
  assert.is(tiny("tinymarket", "tinymarket_hit", "markets").feeds, "markets");
});

test("defineKind refuses a bad name, version, finding declaration or schema default", () => {
  const base = tiny("tinyok");
  assert.throws(() => kindRegistry([{ ...base, kind: "a.b" }]), /must be 1 to 64 of/);
  assert.throws(() => kindRegistry([{ ...base, kind: "v", version: 1.5 }]), /version must be/);
  assert.throws(
    () => kindRegistry([{ ...base, kind: "h", heldBytes: 4096 as never }]),
    /kind "h": heldBytes must be a function, got 4096/,
  );
  assert.throws(
    () => kindRegistry([{ ...base, kind: "f", feeds: "metrics" as never }]),
    /kind "f": feeds must be "any" or "markets", got "metrics"/,
  );
  assert.throws(
    () => registerFindingKind({ type: "w", measure: "x", edges: [1, 3, 2, 4], unit: "" }),
    /edges must be 4 increasing finite numbers/,
  );
  assert.throws(
    () => registerFindingKind({ type: "tinyok_hit", measure: "y", edges: [1, 2, 3, 4], unit: "" }),
    /already declared with measure "x"/,
  );
  assert.throws(
    () =>
      defineKind({
        kind: "tinyschema",
        version: 1,
        config: { n: { type: "number", default: -1, min: 0 } },
        findings: [],
        kernel: {
          init: () => 0,
          step: () => undefined,
          save: () => new Uint8Array(0),
          load: () => 0,
        },
      }),
    /tinyschema\.config \(defaults\)\.n/,
  );
  assert.throws(() => kindRegistry([base, { ...base }]), /Two actor kinds are named "tinyok"/);
});

test("a declared finding becomes an incident finding on its own scale, as a built-in one", () => {
  tiny("tinyinc");
  const at = (x: number) =>
    incidentFindingOf(
      encodeEventEnvelope({ id: `e${x}`, type: "tinyinc_hit", src: "tinyinc/c", ts: T0 }, {
        type: "tinyinc_hit",
        channel: "c",
        x,
      }),
    );
  assert.equal([0.5, 1, 2.5, 3, 9].map((x) => at(x)?.severity), [1, 2, 3, 4, 5]);
  assert.is(at(1)!.channel, "c");
  assert.is(at(1)!.kind, "tinyinc_hit");
  assert.is(
    incidentFindingOf(
      encodeEventEnvelope({ id: "n", type: "tinyinc_hit", src: "s", ts: T0 }, { channel: "c" }),
    ),
    undefined,
    "a finding without its measure is refused",
  );
});

test("troupe's own kinds come in through the same door, declaring their findings", () => {
  assert.equal(Object.keys(ACTOR_KINDS), ["stats", "anomaly", "collapse", "coherence", "bars"]);
  assert.equal(findingKindOf("anomaly")?.edges, [0.6, 0.7, 0.8, 0.9]);
  assert.is(findingKindOf("coherence")?.channelField, "group");
  assert.is(findingKindOf("stats"), undefined, "stats events are data, not findings");
});

test("sampleRandom() is fixed by channel, sample and draw, the same on every runtime", () => {
  const k = channelHash("BTC-USD");
  assert.is(sampleRandom(k, 12345, 0), sampleRandom(k, 12345, 0));
  assert.is.not(sampleRandom(k, 12345, 0), sampleRandom(k, 12345, 1));
  assert.is.not(sampleRandom(k, 12345, 0), sampleRandom(channelHash("ETH-USD"), 12345, 0));
  let sum = 0;
  for (let i = 0; i < 10_000; i++) {
    const u = sampleRandom(k, i);
    assert.ok(u >= 0 && u < 1);
    sum += u;
  }
  assert.ok(Math.abs(sum / 10_000 - 0.5) < 0.01, `mean ${sum / 10_000}`);
  // Pinned: a change of the generator changes every user's replay.
  assert.is(k, PIN_KEY);
  assert.is(sampleRandom(k, 2 ** 40 + 7, 3), PIN_DRAW);
});

const PIN_KEY = 2600539941;
const PIN_DRAW = 0.8218401057398151;

test.run();
