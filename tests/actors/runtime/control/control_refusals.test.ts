/**
 * Control messages refused at a host's edge (a zero, NaN or huge value, an unknown field, a body
 * that is not a map, a kind the host does not run) are counted once each, and dead-lettered
 * naming the field and the value when no one was answered; one asked with a reply subject is
 * answered and counted, not dead-lettered (the sender has the reason).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor } from "../../../../actors/stats/mod.ts";
import {
  Host,
  InProcessBus,
  MemoryJournal,
  MemorySnapshotStore,
} from "../../../../actors/runtime/mod.ts";
import { decodeDeadLetter } from "../../../../actors/runtime/edge/dead_letter.ts";
import { ControlRefusals } from "../../../../actors/runtime/control/control_refusals.ts";
import {
  ctlSubject,
  decodeEnvelope,
  encodeEnvelope,
  encodeFrame,
  feedSubject,
} from "../../../../protocol/mod.ts";

const test = suite("control refusals");

const BAD: Array<[string, unknown, string, string]> = [
  ["zero", { every_samples: 0 }, "ctl.stats.every_samples", "0"],
  ["NaN", { every_samples: NaN }, "ctl.stats.every_samples", "NaN"],
  ["huge", { every_samples: 1e300 }, "ctl.stats.every_samples", "1e+300"],
  ["-0", { every_samples: -0 }, "ctl.stats.every_samples", "0"],
  ["subnormal", { every_samples: Number.MIN_VALUE }, "ctl.stats.every_samples", "5e-324"],
  ["a string", { every_samples: "7" }, "ctl.stats.every_samples", '"7"'],
  ["an unknown field", { every_samples: 5, bogus: 1 }, "ctl.stats.bogus", "bogus"],
  ["a list body", [1, 2], "ctl.stats", "array of 2"],
  ["a string body", "x", "ctl.stats", '"x"'],
  ["a null body", null, "ctl.stats", "null"],
];

async function started() {
  const bus = new InProcessBus();
  const host = new Host({
    hostId: "h",
    bus,
    actors: [statsActor],
    journal: new MemoryJournal(),
    snapshots: new MemorySnapshotStore(),
    log: () => {},
  });
  await host.start();
  const dead: Array<{ subject: string; field: string | undefined; error: string }> = [];
  bus.subscribe("troupe.dlq.>", (m) => {
    const d = decodeDeadLetter(m.data);
    dead.push({ subject: m.subject, field: d.field, error: d.error });
  });
  const refused = async (kind: string) => {
    const text = await host.metrics.registry.getSingleMetricAsString(
      "troupe_control_refused_total",
    );
    const m = new RegExp(`troupe_control_refused_total\\{kind="${kind}",host="h"\\} (\\d+)`)
      .exec(text);
    return m ? Number(m[1]) : 0;
  };
  return { bus, host, dead, refused };
}

const ctl = (id: string, body: unknown) =>
  encodeEnvelope({ id, type: "config", src: "t", ts: 1, body });

test("each refused control message no one asked for is counted once and dead-lettered, naming the field and the value", async () => {
  const { bus, host, dead, refused } = await started();
  try {
    const t = Float64Array.of(1_700_000_000_000_000), v = Float64Array.of(1);
    bus.publish(
      feedSubject("m", "a"),
      encodeFrame({ channel: "a", seq0: 0, t, v }, { id: "f", src: "t" }),
    );
    await bus.flush();
    BAD.forEach(([, body], i) => bus.publish(ctlSubject("stats"), ctl(`bad${i}`, body)));
    bus.publish(ctlSubject("nosuchkind"), ctl("unknown-kind", { x: 1 }));
    // The same message again (a redelivery): counted once.
    bus.publish(ctlSubject("stats"), ctl("bad0", BAD[0]![1]));
    await bus.flush();
    assert.is(await refused("stats"), BAD.length);
    assert.is(await refused("unknown"), 1);
    assert.is(dead.length, BAD.length + 1, dead.map((d) => d.error).join("\n"));
    BAD.forEach(([what, , field, value], i) => {
      assert.is(dead[i]!.subject, "troupe.dlq.value", what);
      assert.is(dead[i]!.field, field, what);
      assert.match(dead[i]!.error, value, what);
    });
    const last = dead[BAD.length]!;
    assert.is(last.field, "subject");
    assert.match(last.error, 'kind "nosuchkind", which this host does not run (it runs stats)');
    // The host goes on taking good control messages.
    bus.publish(ctlSubject("stats"), ctl("good", { every_samples: 7 }));
    await bus.flush();
    await bus.flush();
    assert.equal(host.instance("stats", "a")!.config, { every_samples: 7 });
  } finally {
    await host.stop();
  }
});

test("a refused control request is answered with the reason and counted, not dead-lettered", async () => {
  const { bus, host, dead, refused } = await started();
  try {
    const answers: string[] = [];
    bus.subscribe("_INBOX.r", (m) => {
      answers.push((decodeEnvelope(m.data).body as { error: string }).error);
    });
    bus.publish(ctlSubject("stats"), ctl("asked", { every_samples: 1e300 }), { reply: "_INBOX.r" });
    await bus.flush();
    assert.equal(answers, [
      'Field "ctl.stats.every_samples" must be <= 9007199254740991, got 1e+300',
    ]);
    assert.is(await refused("stats"), 1);
    assert.equal(dead, []);
  } finally {
    await host.stop();
  }
});

test("ControlRefusals says first once per id, and forgets the oldest past its bound", () => {
  const r = new ControlRefusals(2);
  assert.ok(r.first("a"));
  assert.not.ok(r.first("a"));
  assert.ok(r.first("b"));
  assert.ok(r.first("c")); // a goes
  assert.ok(r.first("a"));
  assert.not.ok(r.first("c"));
});

test.run();
