import { createHash } from "node:crypto";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor } from "../../actors/stats/mod.ts";
import { zscore } from "../../examples/zscore/zscore.ts";
import { ActorInstance } from "../../actors/runtime/instances/actor_instance.ts";
import {
  decodeFrame,
  encodeEnvelope,
  encodeFrame,
  encodeInputRecord,
  feedSubject,
} from "../../protocol/mod.ts";
import { parseCommandArgs } from "../../cli/args.ts";
import { command as simCommand } from "../../cli/commands/sim.ts";
import { checkJournalInputs } from "../../sim/check_journal_inputs.ts";
import { type Consumed } from "../../sim/invariants.ts";
import { diffSnapshots, RecoveryChecker } from "../../sim/recovery_checker.ts";
import { OutputChecker } from "../../sim/output_checker.ts";
import { replayHolds, replayRecords, runReference } from "../../sim/fault_free_reference.ts";
import { reproduceCommand, type Sabotage, type SimOptions, simulate } from "../../sim/simulator.ts";
import { parseFaults } from "../../sim/faults.ts";
import { Prng } from "../../sim/prng/mod.ts";

const test = suite("simulator");

// Small runs: a few virtual seconds of a three-host cluster, only the stats kind, so that the
// suite stays quick on both runtimes. The 1,000-seed run is a documented command, not a test.
const base = { durationS: 4, actors: [statsActor] } satisfies Partial<SimOptions>;

test("a fault-free run matches the reference exactly: every output, once, no faults", async () => {
  const r = await simulate({ ...base, seed: 1, faults: parseFaults("none") });
  assert.ok(r.ok, JSON.stringify(r.violations));
  assert.equal(r.violations, []);
  assert.is(r.stats.frames, 80);
  assert.is(r.stats.samples, 8000);
  assert.is(r.stats.instances, 8);
  assert.is(r.stats.crashes, 0);
  assert.is(r.stats.dropped, 0);
  assert.ok(r.stats.outputsExpected > 0);
  assert.is(r.stats.outputsPublished, r.stats.outputsExpected);
  assert.is(r.command, "troupe sim --seed 1 --faults none --duration 4 --actors stats");
  assert.ok(r.trace.some((l) => l.endsWith(" drained")));
});

test("the same seed gives the same trace byte for byte; another seed another trace", async () => {
  const a = await simulate({ ...base, seed: 5, faults: parseFaults("all") });
  const b = await simulate({ ...base, seed: 5, faults: parseFaults("all") });
  const c = await simulate({ ...base, seed: 6, faults: parseFaults("all") });
  assert.ok(a.ok && b.ok && c.ok, JSON.stringify([a.violations, b.violations, c.violations]));
  assert.ok(a.trace.length > 50);
  assert.equal(b.trace, a.trace);
  assert.is(b.traceHash, a.traceHash);
  assert.match(a.traceHash, /^[0-9a-f]{64}$/);
  assert.is.not(c.traceHash, a.traceHash);
  assert.equal(b.stats, a.stats);
});

test("the trace is hashed as it is made: the same hash whether or not its lines are kept", async () => {
  const options = { ...base, seed: 5, faults: parseFaults("all") };
  const kept = await simulate(options);
  const hashed = await simulate({ ...options, keepTrace: false });
  assert.ok(kept.ok && hashed.ok, JSON.stringify([kept.violations, hashed.violations]));
  assert.equal(hashed.trace, []);
  assert.is(hashed.traceHash, kept.traceHash);
  // With no violation, the hash is that of the lines, each ended by a newline.
  const whole = createHash("sha256").update(kept.trace.map((l) => `${l}\n`).join(""));
  assert.is(kept.traceHash, whole.digest("hex"));
  assert.equal(kept.excerpt, []);
});

test("network faults drop, duplicate and reorder messages and cut hosts off; nothing is lost", async () => {
  const r = await simulate({ ...base, seed: 2, faults: parseFaults("network") });
  assert.ok(r.ok, JSON.stringify(r.violations));
  assert.ok(r.stats.dropped > 0, `dropped ${r.stats.dropped}`);
  assert.ok(r.stats.duplicated + r.stats.reordered > 0);
  assert.ok(r.stats.partitions > 0);
  assert.is(r.stats.crashes, 0);
  assert.ok(
    r.trace.some((l) =>
      / (get gen=\d+ \d+\.\.\d+ \(gap\)|fetch gen=\d+ from=\d+ \((silence|stalled))/.test(l)
    ),
  );
  assert.is(r.stats.outputsPublished >= r.stats.outputsExpected, true);
});

test("crashes drop hosts without stopping them; restarts recover equal to a full replay", async () => {
  const r = await simulate({ ...base, seed: 3, faults: parseFaults("crash") });
  assert.ok(r.ok, JSON.stringify(r.violations));
  assert.ok(r.stats.crashes > 0 && r.stats.restarts > 0, JSON.stringify(r.stats));
  assert.is(r.stats.journalRecordsLost, 0);
  assert.is(r.stats.dropped, 0);
  assert.ok(r.trace.some((l) => / crash #\d+ \(fault\)$/.test(l)));
  assert.ok(r.trace.some((l) => / recovery #2 instances=/.test(l)));
});

test("disk faults lose journal tails since the last fsync, and the lost inputs are redelivered", async () => {
  let lost = 0;
  for (const seed of [1, 2, 3, 4]) {
    const r = await simulate({ ...base, seed, faults: parseFaults("disk") });
    assert.ok(r.ok, `seed ${seed}: ${JSON.stringify(r.violations)}`);
    lost += r.stats.journalRecordsLost;
  }
  assert.ok(lost > 0, "no seed lost a journal tail");
});

test("actor faults make kernels throw once per chosen input; the host restarts the instance", async () => {
  const r = await simulate({ ...base, durationS: 10, seed: 8, faults: parseFaults("actor") });
  assert.ok(r.ok, JSON.stringify(r.violations));
  assert.is(r.stats.actorFailures, 2);
  assert.is(r.trace.filter((l) => / actor failure stats:SYM\d+:\d+$/.test(l)).length, 2);
  assert.is(r.trace.filter((l) => / log stats\/SYM\d+ restarted at input \d+$/.test(l)).length, 2);
  assert.is(r.stats.crashes, 0);
});

test("parseFaults reads a kind or a comma list, spells it canonically and names unknown kinds", () => {
  assert.equal(parseFaults("all"), {
    set: {
      network: true,
      crash: true,
      disk: true,
      actor: true,
      duplicate: false,
      damage: false,
      pause: true,
      skew: true,
      cut: true,
    },
    name: "all",
  });
  assert.is(parseFaults("disk").name, "disk");
  assert.equal(parseFaults("disk").set, {
    network: false,
    crash: true,
    disk: true,
    actor: false,
    duplicate: false,
    damage: false,
    pause: false,
    skew: false,
    cut: false,
  });
  assert.is(parseFaults("actor,crash").name, "crash,actor");
  assert.is(parseFaults("network,crash,disk,actor").name, "network,disk,actor");
  assert.is(parseFaults("network,crash,disk,actor,pause,skew,cut").name, "all");
  assert.is(parseFaults("lease,disk").name, "all");
  assert.is(parseFaults("network,crash,disk").name, "network,disk");
  assert.is(parseFaults("all,crash").name, "all");
  assert.is(parseFaults("none").name, "none");
  assert.is(parseFaults("duplicate,all").name, "all,duplicate");
  assert.is(parseFaults("actor,duplicate").name, "actor,duplicate");
  assert.is(parseFaults("damage,disk").name, "disk,damage");
  assert.throws(() => parseFaults("network,gremlins"), /Unknown fault kind "gremlins"/);
  assert.throws(() => parseFaults("none,crash"), /"none" cannot be combined/);
});

test("simulate() takes the faults parsed, and refuses a spec parseFaults would not have made", async () => {
  const made = parseFaults("network");
  const cases: [unknown, RegExp][] = [
    ["all", /must be parsed by parseFaults\(\), got "all"/],
    [{ ...made, name: "all" }, /named "all", but its set spells "network"/],
    [{ set: { ...made.set, disk: true }, name: "disk" }, /disk faults are crashes too/],
  ];
  for (const [faults, message] of cases) {
    let err: unknown;
    try {
      await simulate({ ...base, seed: 1, faults: faults as ReturnType<typeof parseFaults> });
    } catch (e) {
      err = e;
    }
    assert.instance(err, RangeError);
    assert.match((err as Error).message, message);
  }
});

test("all faults at once: 25 seeds pass, each with its own trace", async () => {
  const hashes = new Set<string>();
  let crashes = 0, lost = 0, dropped = 0;
  for (let seed = 100; seed < 125; seed++) {
    const r = await simulate({ ...base, seed, faults: parseFaults("all"), keepTrace: false });
    assert.ok(r.ok, `seed ${seed}: ${JSON.stringify(r.violations)}\n  ${r.command}`);
    assert.is(r.stats.outputsPublished >= r.stats.outputsExpected, true);
    hashes.add(r.traceHash);
    crashes += r.stats.crashes;
    lost += r.stats.journalRecordsLost;
    dropped += r.stats.dropped;
  }
  assert.is(hashes.size, 25);
  assert.ok(crashes > 25 && lost > 0 && dropped > 25, JSON.stringify({ crashes, lost, dropped }));
});

test("an input applied twice is reported with the seed's reproduce command", async () => {
  const r = await simulate({
    ...base,
    seed: 4,
    faults: parseFaults("none"),
    sabotage: "apply_twice",
  });
  assert.not.ok(r.ok);
  const kinds = new Set(r.violations.map((v) => v.invariant));
  assert.ok(kinds.has("no_input_applied_twice"), JSON.stringify(r.violations));
  // The copy carries the input's id, which the instance applied already: a replay passes over it
  // (input_id_window.ts), so the state recovered from the journal is still the live one.
  assert.not.ok(kinds.has("recovery_equals_replay"), JSON.stringify(r.violations));
  assert.match(r.violations[0]!.message, /journaled \(applied\) again/);
  // The lines that led to it are kept whether or not the trace is.
  assert.ok(r.excerpt.length > 1 && r.excerpt.length <= 16, `${r.excerpt.length} lines`);
  assert.match(
    r.excerpt.at(-1)!,
    /VIOLATION no_input_applied_twice: .*journaled \(applied\) again/,
  );
  assert.equal(
    r.excerpt,
    r.trace.slice(r.trace.indexOf(r.excerpt.at(-1)!) - r.excerpt.length + 1).slice(
      0,
      r.excerpt.length,
    ),
  );
  assert.is(r.command, "troupe sim --seed 4 --faults none --duration 4 --actors stats");
});

test("a corrupted journal record makes recovery differ from the live state, and is reported", async () => {
  const r = await simulate({
    ...base,
    seed: 4,
    faults: parseFaults("none"),
    sabotage: "corrupt_journal",
  });
  assert.not.ok(r.ok);
  const v = r.violations.find((x) => x.invariant === "recovery_equals_replay");
  assert.ok(v, JSON.stringify(r.violations));
  assert.match(v!.message, /kernel state differs/);
});

test("an input the host never sees is reported lost at the step it is skipped, and at the end", async () => {
  const r = await simulate({
    ...base,
    seed: 4,
    faults: parseFaults("network,disk,actor"), // a static cluster: seed 4 of `all` is leased
    sabotage: "lose_input",
  });
  assert.not.ok(r.ok);
  const lost = r.violations.filter((x) => x.invariant === "no_input_lost").map((x) => x.message);
  assert.ok(
    lost.some((m) => /journaled source position \d+ after \d+, skipping logged input \d+/.test(m)),
    JSON.stringify(lost),
  );
  assert.ok(
    lost.some((m) => /1 of \d+ logged inputs never applied, first at source position \d+/.test(m)),
    JSON.stringify(lost),
  );
  assert.ok(r.violations.some((x) => x.invariant === "outputs_equal_fault_free"));
});

test("an output that differs from the fault-free run's is reported where it is published", async () => {
  const r = await simulate({
    ...base,
    seed: 4,
    faults: parseFaults("none"),
    sabotage: "corrupt_output",
  });
  assert.not.ok(r.ok);
  const bad = r.violations.filter((x) => x.invariant === "outputs_equal_fault_free");
  assert.ok(bad.length > 0, JSON.stringify(r.violations));
  assert.match(bad[0]!.message, /^h1: output ".+" differs from the fault-free run's at byte \d+/);
  // Each violation's line follows the line of the output it is about.
  const at = r.trace.findIndex((l) => l.includes("VIOLATION outputs_equal_fault_free"));
  assert.match(r.trace[at - 1]!, / h1 out /);
});

test("the feed, reference and replays on the worker thread give the trace and verdicts of a run in process", async () => {
  const sabotages: (Sabotage | undefined)[] = [
    "corrupt_output",
    "lose_input",
    "corrupt_journal",
    "apply_twice",
    undefined,
  ];
  for (const sabotage of sabotages) {
    const options: SimOptions = { ...base, seed: 3, faults: parseFaults("all") };
    if (sabotage) options.sabotage = sabotage;
    const threaded = await simulate(options);
    const local = await simulate({ ...options, threads: false });
    assert.ok(threaded.threaded, "the worker thread was used");
    assert.not.ok(local.threaded);
    assert.is(threaded.ok, sabotage === undefined);
    assert.equal(threaded.violations, local.violations);
    assert.equal(threaded.trace, local.trace);
    assert.is(threaded.traceHash, local.traceHash);
    const dropped = await simulate({ ...options, keepTrace: false });
    assert.is(dropped.traceHash, local.traceHash, `${sabotage}: the hash of an unkept trace`);
    assert.equal(dropped.violations, local.violations);
    assert.equal(threaded.stats, local.stats);
  }
});

test("reproduceCommand names every option that differs from the defaults", () => {
  assert.is(reproduceCommand({ seed: 9 }), "troupe sim --seed 9 --faults all --duration 10");
  assert.is(
    reproduceCommand({
      seed: 9,
      faults: parseFaults("disk"),
      durationS: 2.5,
      hosts: 5,
      channels: 3,
      rate: 900,
    }),
    "troupe sim --seed 9 --faults disk --duration 2.5 --hosts 5 --channels 3 --rate 900",
  );
  assert.is(
    reproduceCommand({ seed: 9, snapshotMinInputs: 5 }),
    "troupe sim --seed 9 --faults all --duration 10 --snapshot-min-inputs 5",
  );
  // A user's kinds: the command loads their modules again, as the run did.
  assert.is(
    reproduceCommand({
      seed: 9,
      actors: [statsActor, zscore],
      kindModules: ["examples/zscore/zscore.ts"],
    }),
    "troupe sim --seed 9 --faults all --duration 10 --kinds examples/zscore/zscore.ts " +
      "--actors stats,zscore",
  );
});

// --- the checks themselves -------------------------------------------------------------------

function frameLog(n: number, channels: string[], seed = 1) {
  const rng = new Prng(seed);
  const log = [];
  for (let i = 0; i < n; i++) {
    const channel = channels[i % channels.length]!;
    const t = Float64Array.from({ length: 50 }, (_, k) => 1e15 + (i * 50 + k) * 1000);
    const v = Float64Array.from({ length: 50 }, () => rng.normal());
    const seq = i + 1;
    log.push({
      seq,
      subject: feedSubject("f", channel),
      data: encodeFrame({ channel, seq0: i * 50, t, v }, { id: `in:${seq}`, src: "test" }),
    });
  }
  return log;
}

function journalOf(log: ReturnType<typeof frameLog>, channel: string) {
  const init = encodeInputRecord({
    kind: "init",
    srcPos: 0,
    subject: `stats/${channel}`,
    payload: encodeEnvelope({
      id: "i",
      type: "init",
      src: "t",
      ts: 0,
      body: { every_samples: 100 },
    }),
  });
  const records = [{ stream: `stats/${channel}`, pos: 1, data: init }];
  for (const e of log.filter((x) => x.subject.endsWith(`.${channel}`))) {
    records.push({
      stream: `stats/${channel}`,
      pos: records.length + 1,
      data: encodeInputRecord({
        kind: "frame",
        srcPos: e.seq,
        subject: e.subject,
        payload: e.data,
      }),
    });
  }
  return records;
}

test("runReference folds the log through fresh instances, one per routed key", () => {
  const log = frameLog(12, ["a", "b", "c"]);
  const ref = runReference(log, [statsActor], new Map([["stats", { every_samples: 100 }]]));
  assert.equal([...ref.inputs.keys()], ["stats/a", "stats/b", "stats/c"]);
  assert.equal(ref.inputs.get("stats/a"), [1, 4, 7, 10]);
  assert.is(ref.outputs.size, 6); // every 100 samples: 2 per channel
  assert.equal(ref.conflicts, []);
  assert.is(ref.finals.get("stats/b")!.srcPos, 11);
  assert.is(ref.finals.get("stats/b")!.pos, 5);
});

test("replayRecords and diffSnapshots: equal replays agree, a changed input is named", () => {
  const log = frameLog(12, ["a", "b"]);
  const records = journalOf(log, "a");
  const whole = replayRecords(statsActor, "a", records)!;
  const first = replayRecords(statsActor, "a", records.slice(0, 3))!;
  const continued = replayRecords(statsActor, "a", records, first)!;
  assert.is(continued, first);
  assert.is(diffSnapshots(continued.snapshot(), whole.snapshot()), undefined);
  const ref = runReference(log, [statsActor], new Map([["stats", { every_samples: 100 }]]));
  assert.is(diffSnapshots(whole.snapshot(), ref.finals.get("stats/a")!), undefined);
  const short = replayRecords(statsActor, "a", records.slice(0, -1))!;
  assert.match(
    diffSnapshots(short.snapshot(), whole.snapshot())!,
    /^journal position 6, expected 7$/,
  );
  assert.match(
    diffSnapshots(short.snapshot(), whole.snapshot(), { positions: false })!,
    /^source position 9, expected 11$/,
  );
  const fresh = ActorInstance.create(statsActor, "a", { every_samples: 100 });
  fresh.skip(7, 11);
  assert.match(diffSnapshots(fresh.snapshot(), whole.snapshot())!, /kernel state differs at byte/);
  assert.throws(() => replayRecords(statsActor, "a", records.slice(1)), /before any init record/);
  for (const inst of [whole, first, short, fresh]) inst.stop();
});

test("diffSnapshots ignores key order in machine and configuration, and names a changed value", () => {
  const kernel = new Uint8Array([1, 2, 3]);
  const snap = (machine: unknown, config: unknown) => ({
    pos: 3,
    srcPos: 5,
    kernel,
    machine,
    config,
  });
  const a = snap({ value: "idle", context: { n: 1, m: [1, 2] } }, { every_samples: 100, x: 1 });
  const b = snap({ context: { m: [1, 2], n: 1 }, value: "idle" }, { x: 1, every_samples: 100 });
  assert.is(diffSnapshots(a, b), undefined);
  assert.is(diffSnapshots(a, a), undefined);
  const c = snap({ context: { m: [1, 3], n: 1 }, value: "idle" }, a.config);
  assert.match(diffSnapshots(a, c)!, /^machine snapshot .*"m":\[1,2\].*, expected .*"m":\[1,3\]/);
  const d = snap(a.machine, { every_samples: 200, x: 1 });
  assert.match(diffSnapshots(a, d)!, /^configuration \{"every_samples":100,"x":1\}, expected/);
});

test("replayHolds: a kept replay continues only over a journal holding what it consumed", () => {
  const log = frameLog(12, ["a", "b"]);
  const records = journalOf(log, "a");
  const bySeq = new Map(log.map((e) => [e.seq, e]));
  const lookup = (srcPos: number, payload: Uint8Array, subject?: string) => {
    const e = bySeq.get(srcPos);
    if (!e || (subject !== undefined && subject !== e.subject)) return undefined;
    if (e.data.byteLength !== payload.byteLength || e.data.some((x, i) => x !== payload[i])) {
      return undefined;
    }
    return decodeFrame(e.data);
  };
  const consumed: Consumed = [];
  const kept = replayRecords(statsActor, "a", records.slice(0, 4), undefined, lookup, consumed)!;
  // Frames that hold the logged bytes are remembered by source position; the init by a copy.
  assert.equal(consumed.slice(1), [1, 3, 5]);
  assert.ok(consumed[0] instanceof Uint8Array);
  assert.ok(replayHolds(records, consumed, lookup));
  replayRecords(statsActor, "a", records.slice(4), kept, lookup, consumed);
  const whole = replayRecords(statsActor, "a", records)!;
  assert.is(diffSnapshots(kept.snapshot(), whole.snapshot()), undefined);
  // A bit flipped in a frame's payload, or in the init record, is no longer what was consumed.
  const flipped = records.map((r) => ({ ...r, data: r.data.slice() }));
  flipped[2]!.data[flipped[2]!.data.byteLength - 3]! ^= 1;
  assert.not.ok(replayHolds(flipped, consumed, lookup));
  // So is a frame's record on another subject (the last letter of its channel changed).
  const moved = records.map((r) => ({ ...r, data: r.data.slice() }));
  const subjectEnd = 11 + (moved[2]!.data[9]! | (moved[2]!.data[10]! << 8));
  moved[2]!.data[subjectEnd - 1]! ^= 2;
  assert.not.ok(replayHolds(moved, consumed, lookup));
  const init = records.map((r) => ({ ...r, data: r.data.slice() }));
  init[0]!.data[init[0]!.data.byteLength - 1]! ^= 1;
  assert.not.ok(replayHolds(init, consumed, lookup));
  // A journal shorter than what was consumed (a lost tail) does not hold it either.
  assert.not.ok(replayHolds(records.slice(0, 3), consumed, lookup));
  for (const inst of [kept, whole]) inst.stop();
});

test("RecoveryChecker: replays kept between checks, cut back by lost tails, and patched bytes", () => {
  const log = frameLog(12, ["a", "b"]);
  const records = journalOf(log, "a");
  const frames = {
    entry: (seq: number) => log[seq - 1]!,
    decoded: (seq: number) => decodeFrame(log[seq - 1]!.data),
  };
  const checker = new RecoveryChecker(new Map([["stats", statsActor]]), frames);
  const liveAt = (n: number) => {
    const inst = replayRecords(statsActor, "a", records.slice(0, n))!;
    const snap = inst.snapshot();
    inst.stop();
    return snap;
  };
  const check = (n: number, extra: Partial<Parameters<typeof checker.check>[0]> = {}) =>
    checker.check({
      host: "h1",
      when: "recovery",
      head: 12,
      instances: [{ stream: "stats/a", status: "running", live: liveAt(n) }],
      ...extra,
    });
  const data = records.map((r) => r.data);
  checker.records("h1", "stats/a", 0, data.slice(0, 4));
  assert.equal(check(4), []);
  checker.records("h1", "stats/a", 4, data.slice(4));
  assert.equal(check(7), []);
  // A live state that differs from the replay is named.
  assert.match(
    check(6)[0]!.message,
    /^h1 stats\/a after recovery: journal position 6, expected 7$/,
  );
  // A crash cut the journal back to 5 records: the replay past them is dropped, and the view
  // replayed afresh once it holds the new tail.
  checker.cut("h1", new Map([["stats/a", 5]]));
  checker.records("h1", "stats/a", 5, []);
  assert.equal(check(5), []);
  // A record's bytes changed in place: a fresh replay (after a cut) sees the new bytes.
  const bad = data[2]!.slice();
  bad[bad.byteLength - 3]! ^= 1;
  checker.patch("h1", "stats/a", 3, bad);
  checker.cut("h1", new Map([["stats/a", 4]]));
  checker.records("h1", "stats/a", 4, data.slice(4, 5));
  assert.match(check(5)[0]!.message, /kernel state differs at byte/);
  // A full check reads the journal it is given, not the view.
  const journals = new Map([["stats/a", records.slice(0, 5)]]);
  assert.equal(check(5, { journals, when: "drain" }), []);
  // Instances that are not running are reported, not replayed.
  const stopped = checker.check({
    host: "h1",
    when: "drain",
    head: 12,
    instances: [{ stream: "stats/a", status: "stopped", live: undefined }],
  });
  assert.equal(stopped, [{
    invariant: "recovery_equals_replay",
    message: "h1 stats/a is stopped after drain",
  }]);
  // One in backoff (an input failed it while recovery folded it) is compared once it runs again.
  const backoff = checker.check({
    host: "h1",
    when: "recovery",
    head: 12,
    instances: [{ stream: "stats/a", status: "backoff", live: undefined }],
  });
  assert.equal(backoff, []);
  checker.stop();
});

test("checkJournalInputs finds lost inputs, inputs applied twice and inputs from nowhere", () => {
  const log = frameLog(9, ["a", "b", "c"]);
  const records = journalOf(log, "a"); // srcPos 1, 4, 7
  assert.is(checkJournalInputs("stats/a", records, [1, 4, 7]), undefined);
  const lost = checkJournalInputs("stats/a", records, [1, 4, 7, 10]);
  assert.equal(lost, {
    invariant: "no_input_lost",
    message: "stats/a: 1 of 4 logged inputs never applied, first at source position 10",
  });
  const twice = [...records, { ...records[2]!, pos: 5 }];
  assert.equal(
    checkJournalInputs("stats/a", twice, [1, 4, 7])?.invariant,
    "no_input_applied_twice",
  );
  assert.match(
    checkJournalInputs("stats/a", records, [1, 7])!.message,
    /not in the log, first at 4/,
  );
});

test("OutputChecker accepts reference outputs (duplicates too) and names strangers and changes", () => {
  const log = frameLog(12, ["a"]);
  const ref = runReference(log, [statsActor], new Map([["stats", { every_samples: 100 }]]));
  const checker = new OutputChecker(ref);
  const [id, data] = [...ref.outputs][0]!;
  assert.is(checker.observe(id, data), undefined);
  assert.is(checker.observe(id, data), undefined);
  assert.is(checker.published, 2);
  assert.is(checker.missing().length, ref.outputs.size - 1);
  const changed = data.slice();
  changed[changed.length - 1]! ^= 1;
  assert.match(checker.observe(id, changed)!, /differs from the fault-free run's at byte/);
  assert.match(checker.observe("nope", data)!, /"nope" is not one a fault-free run publishes/);
  assert.match(checker.observe(undefined, data)!, /without a Nats-Msg-Id/);
});

// --- the command -------------------------------------------------------------------------------

async function runCli(argv: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const log = console.log;
  console.log = (...xs: unknown[]) => void out.push(xs.join(" "));
  try {
    const code = await simCommand.run(parseCommandArgs(simCommand, argv));
    return { code, out: out.join("\n") };
  } finally {
    console.log = log;
  }
}

test("troupe sim --json reports the seeds run and passed, and exits 0", async () => {
  const { code, out } = await runCli([
    "--seeds",
    "2",
    "--from",
    "7",
    "--duration",
    "2",
    "--faults",
    "crash",
    "--actors",
    "stats",
    "--check-determinism",
    "--json",
  ]);
  assert.is(code, 0);
  const j = JSON.parse(out);
  assert.is(j.seedsRun, 2);
  assert.is(j.passed, 2);
  assert.is(j.failed, 0);
  assert.is(j.faults, "crash");
  assert.equal(j.failures, []);
});

test("troupe sim refuses bad arguments with a usage error", async () => {
  const bad = [
    ["--seed", "1", "--seeds", "2"],
    ["--faults", "cosmic-rays"],
    ["--duration", "0"],
    ["--duration", "-3"],
    ["--seeds", "0"],
    ["--hosts", "1.5"],
    ["--from", "3"],
    ["--seeds", "2", "--trace", "/tmp/x"],
    ["--actors", "stats,telepathy"],
  ];
  for (const argv of bad) {
    const err = await runCli(argv).then(() => undefined, (e: Error) => e);
    assert.is(err?.name, "UsageError", argv.join(" "));
  }
});

test.run();
