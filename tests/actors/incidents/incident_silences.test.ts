import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  defaultIncidentConfig,
  IncidentStage,
  runIncidentStage,
} from "../../../actors/incidents/mod.ts";
import { decodeDeadLetter, InProcessBus } from "../../../actors/runtime/mod.ts";
import {
  decodeEnvelope,
  decodeIncident,
  decodeIncidentControlAnswer,
  encodeEnvelope,
  encodeEventEnvelope,
  encodeIncidentControl,
  incidentControlSubject,
  parseSilenceMatchers,
  ProtocolError,
  type Silence,
} from "../../../protocol/mod.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("incident stage: silences and acks");

const T0 = 1_763_900_000_000_000;
const S = 1_000_000;

/** An anomaly event envelope of `channel` at `ts`, as the actors publish it. */
function anomaly(channel: string, ts: number, n: number): Uint8Array {
  return encodeEventEnvelope(
    { id: `in${n}:anomaly:${channel}:0`, type: "anomaly", src: "h", ts },
    { channel, score: 0.99, value: 1, expected: 0, lower: -1, upper: 1 },
  );
}

/**
 * Anomalies on SYM1 every 3 s for a minute, and on SYM2 every 7 s from 63 s: past SYM1's grouping
 * window (a minute), an incident of its own.
 */
function findings(): Uint8Array[] {
  const out: Uint8Array[] = [];
  let n = 0;
  for (let t = 0; t < 120 * S; t += S) {
    if (t < 60 * S && t % (3 * S) === 0) out.push(anomaly("SYM1", T0 + t, n++));
    if (t >= 63 * S && t % (7 * S) === 0) out.push(anomaly("SYM2", T0 + t + 500_000, n++));
  }
  return out;
}

function table(silences: Silence[], at: number): Uint8Array {
  return encodeIncidentControl({ id: `c${at}`, src: "collab", ts: at }, {
    type: "silences",
    session: "main",
    silences,
  });
}

const SYM1 = {
  id: "s1",
  matchers: parseSilenceMatchers("kind=anomaly channel=~SYM1"),
  starts_us: T0 + 20 * S,
  ends_us: T0 + 60 * S,
};

/** Runs the stage over the findings, the control messages sent before finding `at[k]`. */
function run(controls: Array<{ before: number; data: Uint8Array }>): Uint8Array[] {
  const out: Uint8Array[] = [];
  const stage = new IncidentStage({
    config: defaultIncidentConfig,
    publish: (_s, d) => out.push(d),
  });
  const all = findings();
  all.forEach((f, i) => {
    for (const c of controls) if (c.before === i) stage.control(c.data);
    stage.take(f);
  });
  stage.flush(T0 + 3600 * S);
  return out;
}

test("a silence marks matching incidents from its start to its expiry, in event time", () => {
  const out = run([{ before: 5, data: table([SYM1], T0 + 10 * S) }]).map((d) => ({
    ts: decodeEnvelope(d).ts,
    i: decodeIncident(d).incident,
  }));
  const sym1 = out.filter((u) => u.i.members.every((m) => m.channel === "SYM1"));
  const sym2 = out.filter((u) => u.i.members.some((m) => m.channel === "SYM2"));
  assert.ok(sym1.some((u) => u.i.silenced), "SYM1's incident marked");
  for (const u of sym1) {
    assert.is(
      u.i.silenced,
      u.ts >= SYM1.starts_us && u.ts < SYM1.ends_us,
      `update at ${u.ts - T0}`,
    );
  }
  assert.ok(sym1.some((u) => u.ts === SYM1.starts_us && u.i.silenced), "marked at its start");
  assert.ok(sym1.some((u) => u.ts === SYM1.ends_us && !u.i.silenced), "unmarked at its expiry");
  assert.ok(sym2.length > 0 && sym2.every((u) => !u.i.silenced), "an incident with SYM2 is not");
});

test("where the table arrives before its time does not change one byte of the updates", () => {
  const at = T0 + 30 * S;
  const want = run([{ before: 0, data: table([SYM1], at) }]);
  const seed = 2929;
  const prng = new Prng(seed);
  for (let round = 0; round < 10; round++) {
    // Before any of the first 11 findings (up to 30 s): the watermark (2 s behind) is before `at`.
    const before = Math.floor(prng.next() * 11);
    assert.equal(
      run([{ before, data: table([SYM1], at) }]),
      want,
      `seed ${seed}, round ${round}, before ${before}`,
    );
  }
  // An empty table later ends it at its own time, the same wherever it arrives.
  const end = T0 + 40 * S;
  const a = run([{ before: 0, data: table([SYM1], at) }, { before: 1, data: table([], end) }]);
  const b = run([{ before: 0, data: table([SYM1], at) }, { before: 14, data: table([], end) }]);
  assert.equal(a, b);
  assert.not.equal(a, want);
});

test("control() answers an ack of a held incident and refuses an unknown one; a malformed message throws naming the field", () => {
  const stage = new IncidentStage({ config: defaultIncidentConfig, publish: () => {} });
  for (const f of findings().slice(0, 10)) stage.take(f);
  const id = stage.list()[0]!.id;
  const ack = (incident: string) =>
    encodeIncidentControl({ id: "a", src: "collab", ts: T0 }, {
      type: "ack",
      session: "main",
      incident,
    });
  const ok = stage.control(ack(id));
  assert.ok(ok.ok);
  assert.match(ok.detail, `acknowledged ${id}`);
  const no = stage.control(ack("anomaly-1-NOPE"));
  assert.not.ok(no.ok);
  assert.match(no.detail, 'Unknown incident "anomaly-1-NOPE"');
  try {
    stage.control(encodeEnvelope({
      id: "x",
      type: "silences",
      src: "c",
      ts: T0,
      body: {
        session: "main",
        silences: [{ id: "s", matchers: "kind=bogus", starts_us: 1, ends_us: 2 }],
      },
    }));
    assert.unreachable("a bad matcher is refused");
  } catch (err) {
    assert.instance(err, ProtocolError);
    assert.is((err as ProtocolError).field, "body.silences[0].matchers");
    assert.match((err as Error).message, "kind=bogus");
  }
});

test("runIncidentStage() answers a malformed control message with the error and dead-letters it, naming the field", async () => {
  const bus = new InProcessBus();
  const { stop } = runIncidentStage(bus, { config: defaultIncidentConfig });
  const letters: Uint8Array[] = [];
  bus.subscribe("troupe.dlq.>", (m) => letters.push(m.data));
  try {
    const bad = encodeEnvelope({
      id: "x",
      type: "silences",
      src: "c",
      ts: T0,
      body: {
        session: "main",
        silences: [{ id: "s", matchers: "channel=~a.b", starts_us: 1, ends_us: 2 }],
      },
    });
    const reply = await bus.request(incidentControlSubject(), bad, { timeout: 1000 });
    const answer = decodeIncidentControlAnswer(reply.data);
    assert.not.ok(answer.ok);
    assert.match(answer.detail, "channel=~a.b");
    await bus.flush();
    assert.is(letters.length, 1);
    const letter = decodeDeadLetter(letters[0]!);
    assert.is(letter.field, "body.silences[0].matchers");
    assert.is(letter.subject, incidentControlSubject());
  } finally {
    stop();
    await bus.close();
  }
});

test.run();
