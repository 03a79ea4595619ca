/**
 * A host's answer to a control request says what it applied: the owner of a key's partition
 * answers with the instance, a host that does not own it stays silent (with several hosts the
 * first answer wins, and it must be the owner's), a kind-wide change names the instances it
 * reached and the kind's configuration, and a bad change is refused with the reason. Asked to
 * answer every host (`askControl`), the other hosts pass, saying what they run or the partition
 * they do not own, so that a kind no host runs is known at once.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor } from "../../../../actors/stats/mod.ts";
import { brokenKind } from "../../../_support/failing_kinds.ts";
import {
  askControl,
  type ControlApplied,
  describeControlApplied,
  describePasses,
  Host,
  InProcessBus,
  MemoryJournal,
  MemorySnapshotStore,
  partitionOf,
  readControlAnswers,
} from "../../../../actors/runtime/mod.ts";
import {
  CONTROL_ANSWER_ALL_HEADER,
  controlAnswerOf,
  ctlSubject,
  decodeEnvelope,
  encodeControlAnswer,
  encodeEnvelope,
  encodeFrame,
  type Envelope,
  feedSubject,
  inputRecordKind,
} from "../../../../protocol/mod.ts";

const test = suite("control answers");

/** What an "ok" answer says was applied (protocol/events/control_answer.ts). */
function appliedOf(env: Envelope) {
  const a = controlAnswerOf(env);
  if (!a.ok) throw new Error(`refused: ${a.error}`);
  return a.applied;
}

function frame(channel: string) {
  const t = new Float64Array([1_700_000_000_000_000]), v = new Float64Array([1]);
  return encodeFrame({ channel, seq0: 0, t, v }, { id: `${channel}-0`, src: "t" });
}

/** Sends a control request with its own reply subject; every answer to it, after 100 ms. */
async function answers(bus: InProcessBus, subject: string, body: unknown): Promise<Envelope[]> {
  const inbox = `_INBOX.t${Math.random().toString(36).slice(2)}`;
  const got: Envelope[] = [];
  const sub = bus.subscribe(inbox, (m) => got.push(decodeEnvelope(m.data)));
  bus.publish(subject, encodeEnvelope({ id: "c", type: "config", src: "t", ts: 1, body }), {
    reply: inbox,
  });
  await bus.flush();
  await new Promise((r) => setTimeout(r, 100));
  sub.unsubscribe();
  return got;
}

test("the owner answers with what it applied, the other host is silent; kind-wide answers count instances; a refusal has the reason", async () => {
  const bus = new InProcessBus();
  const mk = (owned: number[]) =>
    new Host({
      hostId: `h${owned[0]}`,
      bus,
      actors: [statsActor],
      journal: new MemoryJournal(),
      snapshots: new MemorySnapshotStore(),
      partitions: { count: 2, owned },
      log: () => {},
    });
  const h0 = mk([0]), h1 = mk([1]);
  await h0.start();
  await h1.start();
  try {
    // Two channels, one in each partition.
    const names = Array.from({ length: 20 }, (_, i) => `ch${i}`);
    const in0 = names.find((c) => partitionOf(c, 2) === 0)!;
    const in1 = names.find((c) => partitionOf(c, 2) === 1)!;
    for (const c of [in0, in1]) bus.publish(feedSubject("t", c), frame(c));
    await bus.flush();

    const keyed = await answers(bus, ctlSubject("stats", in1), { every_samples: 5 });
    assert.is(keyed.length, 1, "exactly one answer, the owner's");
    assert.is(keyed[0]!.type, "ok");
    assert.is(keyed[0]!.src, "h1");
    const applied = keyed[0]!.body as ControlApplied;
    // The answer carries the configuration in force once applied.
    const { settings, ...rest } = applied;
    assert.is((settings as { every_samples: number }).every_samples, 5);
    assert.equal(rest, {
      kind: "stats",
      key: in1,
      instances: 1,
      kind_config: false,
      via: "now",
    });
    assert.is(describeControlApplied(applied), `applied to stats/${in1}`);

    const wide = await answers(bus, ctlSubject("stats"), { every_samples: 6 });
    assert.is(wide.length, 2, "each host applies a kind-wide change and answers");
    for (const a of wide) {
      const { settings, ...rest } = a.body as ControlApplied;
      assert.is((settings as { every_samples: number }).every_samples, 6);
      assert.equal(rest, {
        kind: "stats",
        key: null,
        instances: 1,
        kind_config: true,
        via: "now",
      });
    }
    assert.match(
      describeControlApplied(appliedOf(wide[0]!)),
      "and the configuration of those to come",
    );

    const bad = await answers(bus, ctlSubject("stats", in0), { every_samples: -1 });
    assert.is(bad.length, 1);
    assert.is(bad[0]!.type, "error");
    assert.match((bad[0]!.body as { error: string }).error, "every_samples");
  } finally {
    await h0.stop();
    await h1.stop();
  }
});

test("a keyed change for an instance stopped after repeated failures is refused with the reason and journaled nowhere; a kind-wide change does not count it", async () => {
  const broken = brokenKind;

  const bus = new InProcessBus();
  const journal = new MemoryJournal();
  const stopped: string[] = [];
  bus.subscribe("troupe.sys.actor.stopped", (m) => stopped.push(decodeEnvelope(m.data).src));
  const dead: string[] = [];
  bus.subscribe("troupe.dlq.>", (m) => dead.push(m.subject));
  const host = new Host({
    hostId: "h",
    bus,
    actors: [broken, statsActor],
    journal,
    snapshots: new MemorySnapshotStore(),
    supervision: { backoffMsBase: 2, failuresMax: 3, inputFailuresMax: 100 },
    log: () => {},
  });
  await host.start();
  try {
    for (const c of ["w", "x"]) bus.publish(feedSubject("t", c), frame(c));
    await bus.flush();
    for (let i = 0; i < 200 && stopped.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    const statuses = Object.fromEntries(host.instances().map((i) => [i.stream, i.status]));
    assert.is(statuses["broken/w"], "stopped");
    assert.is(statuses["broken/x"], "stopped");
    const ctlRecords = async () => {
      let n = 0;
      for await (const r of journal.read("broken/w", 0)) if (inputRecordKind(r.data) === "ctl") n++;
      return n;
    };
    const before = await ctlRecords();
    const deadBefore = dead.length;

    const keyed = await answers(bus, ctlSubject("broken", "w"), { every_samples: 5 });
    assert.is(keyed.length, 1, "one answer");
    assert.is(keyed[0]!.type, "error");
    assert.is(
      (keyed[0]!.body as { error: string }).error,
      "Actor broken/w is stopped after repeated failures: nothing applied",
    );
    assert.is(await ctlRecords(), before, "nothing journaled for the stopped instance");
    assert.equal(dead.slice(deadBefore), [], "the refusal is answered, not dead-lettered");
    assert.match(
      await host.metrics.registry.getSingleMetricAsString("troupe_control_refused_total"),
      'troupe_control_refused_total{kind="broken",host="h"} 1',
    );

    // The running stats instances still take changes; the kind-wide change skips stopped ones.
    const wide = await answers(bus, ctlSubject("broken"), { every_samples: 6 });
    assert.is(wide.length, 1);
    const { settings: _broken, ...wideRest } = wide[0]!.body as ControlApplied;
    assert.equal(wideRest, {
      kind: "broken",
      key: null,
      instances: 0,
      kind_config: true,
      via: "now",
    });
    const running = await answers(bus, ctlSubject("stats", "w"), { every_samples: 7 });
    assert.is(running[0]!.type, "ok");
  } finally {
    await host.stop();
  }
});

/** Three started hosts on one bus: h0 and h1 run stats (partitions 0 and 1 of 3), hx "broken". */
async function threeHosts(bus: InProcessBus): Promise<Host[]> {
  const mk = (hostId: string, actors: typeof statsActor[], owned: number[]) =>
    new Host({
      hostId,
      bus,
      actors,
      journal: new MemoryJournal(),
      snapshots: new MemorySnapshotStore(),
      partitions: { count: 3, owned },
      log: () => {},
    });
  // Partition 2 of stats has no owner; "hx" runs only the kind "broken".
  const hosts = [
    mk("h0", [statsActor], [0]),
    mk("h1", [statsActor], [1]),
    mk("hx", [brokenKind], [0, 1, 2]),
  ];
  for (const h of hosts) await h.start();
  return hosts;
}

test("asked for every answer, the hosts a message is not for pass, saying what they run or the partition they do not own", async () => {
  const bus = new InProcessBus();
  const hosts = await threeHosts(bus);
  try {
    const names = Array.from({ length: 30 }, (_, i) => `ch${i}`);
    const inPart = (k: number) => names.find((c) => partitionOf(c, 3) === k)!;
    const ask = async (subject: string, keyed: boolean, timeout = 5000) => {
      const request = encodeEnvelope({
        id: "c",
        type: "config",
        src: "t",
        ts: 1,
        body: { every_samples: 4 },
      });
      return readControlAnswers(await askControl(bus, subject, request, { timeout, keyed }));
    };

    const owned = await ask(ctlSubject("stats", inPart(1)), true);
    assert.equal(owned.accepted, ["h1"], "the owner's answer ends the ask");
    assert.equal(owned.refused, []);

    // The kind runs, so the owner may only be slow: the ask waits for it up to its timeout.
    const unowned = await ask(ctlSubject("stats", inPart(2)), true, 300);
    assert.equal(unowned.accepted, []);
    assert.equal(
      unowned.passed.map((p) => p.host).sort(),
      ["h0", "h1", "hx"],
      "every host passes",
    );
    assert.is(
      describePasses("stats", unowned.passed),
      "no host that answered owns partition 2 of stats (h0 and h1 do not own it; hx runs broken)",
    );

    for (const keyed of [false, true]) {
      const subject = keyed ? ctlSubject("collapse", inPart(0)) : ctlSubject("collapse");
      const none = await ask(subject, keyed);
      assert.equal(none.accepted, []);
      assert.is(
        describePasses("collapse", none.passed),
        "no host runs collapse (h0 and h1 run stats; hx runs broken)",
      );
    }

    const wide = await ask(ctlSubject("stats"), false);
    assert.equal(wide.accepted.sort(), ["h0", "h1"]);
    assert.equal(wide.passed.map((p) => p.host), ["hx"]);

    // Not asked for every answer (an older requester): the hosts it is not for stay silent.
    assert.equal(await answers(bus, ctlSubject("stats", inPart(2)), { every_samples: 5 }), []);
    assert.equal(await answers(bus, ctlSubject("collapse"), { every_samples: 5 }), []);
  } finally {
    for (const h of hosts) await h.stop();
  }
});

test("a control message that cannot be read is dead-lettered by every host, whatever kind it names", async () => {
  const bus = new InProcessBus();
  const hosts = await threeHosts(bus);
  try {
    const dead: string[] = [];
    bus.subscribe("troupe.dlq.>", (m) => dead.push(m.subject));
    bus.publish(ctlSubject("collapse"), new Uint8Array([0xc1]), {
      headers: { [CONTROL_ANSWER_ALL_HEADER]: "1" },
    });
    await bus.flush();
    assert.is(dead.length, 3, "each host dead-letters it, as before passes: none passes it");
  } finally {
    for (const h of hosts) await h.stop();
  }
});

test("a pass is read back as it was sent; a pass whose fields are wrong is refused naming the field", () => {
  const meta = { id: "a", src: "h9", ts: 1 };
  const pass = { kind: "collapse", runs: ["anomaly", "stats"], partition: null };
  const back = controlAnswerOf(
    decodeEnvelope(encodeControlAnswer(meta, { ok: false, error: "", pass })),
  );
  assert.equal(back, { ok: false, error: "runs no collapse (it runs anomaly, stats)", pass });
  const owned = { ...pass, partition: 3 };
  assert.is(
    controlAnswerOf(
      decodeEnvelope(encodeControlAnswer(meta, { ok: false, error: "", pass: owned })),
    )
      .ok,
    false,
  );
  const bad = (body: unknown) =>
    controlAnswerOf(decodeEnvelope(encodeEnvelope({ ...meta, type: "pass", body })));
  assert.throws(() => bad({ kind: "collapse", runs: "stats", partition: null }), /field "runs"/);
  assert.throws(() => bad({ kind: "collapse", runs: [], partition: -1 }), /field "partition"/);
  assert.throws(() => bad({ kind: "a.b", runs: [], partition: null }), /field "kind"/);
});

test.run();
