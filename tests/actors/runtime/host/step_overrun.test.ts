/**
 * A step that ran past its deadline, its input journaled before the watchdog ended the host: the
 * next start skips that input (a skip record), dead-letters it with reason `deadline`, removes the
 * overrun file, and a later recovery agrees (the input is never applied); where its stream's later
 * inputs were journaled after it, it is skipped where it is and they are applied after it.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { statsActor } from "../../../../actors/stats/mod.ts";
import { Host } from "../../../../actors/runtime/host/host.ts";
import { readStepOverrun, StepOverrunSkip } from "../../../../actors/runtime/host/step_overrun.ts";
import type { InputSource } from "../../../../actors/runtime/edge/input_source.ts";
import { decodeDeadLetter } from "../../../../actors/runtime/edge/mod.ts";
import { InProcessBus } from "../../../../actors/runtime/transport/in_process_bus.ts";
import { MemoryJournal } from "../../../../actors/runtime/journal/memory_journal.ts";
import { MemorySnapshotStore } from "../../../../actors/runtime/snapshots/memory_snapshot_store.ts";
import {
  decodeInputRecord,
  encodeFrame,
  feedSubject,
  skippedPosition,
} from "../../../../protocol/mod.ts";
import { tempDir } from "../../../_support/nats.ts";

const test = suite("step overrun");

function frame(channel: string, f: number) {
  const t = new Float64Array(10).map((_, i) => 1_700_000_000_000_000 + (f * 10 + i) * 1000);
  const v = new Float64Array(10).map((_, i) => f * 100 + i);
  return {
    subject: feedSubject("t", channel),
    data: encodeFrame({ channel, seq0: f * 10, t, v }, { id: `${channel}-${f}`, src: "t" }),
  };
}

/** A feed with source positions 1..n. */
function listInput(feed: ReturnType<typeof frame>[]): InputSource {
  return {
    start(deliver, resumeAfter) {
      for (let pos = resumeAfter + 1; pos <= feed.length; pos++) {
        deliver({ ...feed[pos - 1]!, headers: undefined, reply: undefined }, pos);
      }
      return Promise.resolve();
    },
    stop: () => Promise.resolve(),
  };
}

test("recovery skips a journaled input whose step overran, dead-letters it, and later ones agree", async () => {
  const dir = tempDir("troupe-overrun-");
  try {
    const feed = [frame("a", 0), frame("z", 0), frame("a", 1)];
    const journal = new MemoryJournal();
    const bus = new InProcessBus();
    const host = (snapshots: MemorySnapshotStore, stepOverrun?: StepOverrunSkip) =>
      new Host({
        hostId: "h",
        bus,
        actors: [statsActor],
        journal,
        snapshots,
        input: listInput(feed),
        log: () => {},
        ...(stepOverrun ? { stepOverrun } : {}),
      });
    const first = host(new MemorySnapshotStore());
    await first.start();
    await bus.flush();
    await first.stop();

    // As the watchdog writes it: a1, at position 3 of stats/a (after its init and a0).
    const path = join(dir.path, "step_overrun.json");
    const overrun = {
      stream: "stats/a",
      kind: "stats",
      key: "a",
      pos: 3,
      src_pos: 3,
      elapsed_ms: 612,
      deadline_ms: 500,
    };
    writeFileSync(path, JSON.stringify(overrun));
    const found = readStepOverrun(path, () => {});
    assert.equal(found, overrun);
    const letters: Array<{ subject: string; error: string; actor: string | undefined }> = [];
    bus.subscribe("troupe.dlq.>", (m) => {
      const l = decodeDeadLetter(m.data);
      letters.push({ subject: m.subject, error: l.error, actor: l.actor });
    });
    // No snapshot (a store of its own): the journal's tail is recovered, as after a SIGKILL.
    const second = host(new MemorySnapshotStore(), new StepOverrunSkip(found!, path, () => {}));
    await second.start();
    await bus.flush();
    assert.equal(letters, [{
      subject: "troupe.dlq.deadline",
      actor: "stats/a",
      error: 'Step of kind "stats" on key "a" ran past its deadline of 500 ms on its input at ' +
        "position 3 (source position 3): the host was ended after 612 ms; skipped",
    }]);
    assert.not.ok(existsSync(path), "the overrun file is removed once the skip is journaled");
    const records = [];
    for await (const rec of journal.read("stats/a")) records.push(decodeInputRecord(rec.data));
    assert.equal(records.map((r) => r.kind), ["init", "frame", "frame", "skip"]);
    assert.is(skippedPosition(records[3]!), 3);
    const state = second.instance("stats", "a")!.kernelState;
    await second.stop();

    // A later start, from the journal alone, passes over it too, and says nothing more.
    const third = host(new MemorySnapshotStore());
    await third.start();
    await bus.flush();
    assert.equal(third.instance("stats", "a")!.kernelState, state);
    assert.is(letters.length, 1);
    await third.stop();
  } finally {
    dir.remove();
  }
});

test("an overran input its stream's later inputs follow is skipped where it is, they after it", async () => {
  const dir = tempDir("troupe-overrun-");
  try {
    // a1 overran, a2 journaled after it (as a team's kind's inputs are while a worker spins).
    const feed = [frame("a", 0), frame("a", 1), frame("z", 0), frame("a", 2)];
    const journal = new MemoryJournal();
    const bus = new InProcessBus();
    const letters: string[] = [];
    bus.subscribe("troupe.dlq.>", (m) => void letters.push(decodeDeadLetter(m.data).error));
    const host = (feedOf: typeof feed, stepOverrun?: StepOverrunSkip) =>
      new Host({
        hostId: "h",
        bus,
        actors: [statsActor],
        config: { stats: { every_samples: 10 } },
        journal,
        snapshots: new MemorySnapshotStore(),
        input: listInput(feedOf),
        log: () => {},
        ...(stepOverrun ? { stepOverrun } : {}),
      });
    const first = host(feed);
    await first.start();
    await first.stop();
    const path = join(dir.path, "step_overrun.json");
    const overrun = { stream: "stats/a", kind: "stats", key: "a", pos: 3, src_pos: 2 };
    writeFileSync(path, JSON.stringify({ ...overrun, elapsed_ms: 612, deadline_ms: 500 }));
    // No snapshot (a store of its own): the journal's tail is recovered, as after a SIGKILL.
    const second = host(
      feed,
      new StepOverrunSkip(readStepOverrun(path, () => {})!, path, () => {}),
    );
    await second.start();
    await bus.flush();
    assert.equal(letters, [
      'Step of kind "stats" on key "a" ran past its deadline of 500 ms on its input at ' +
      "position 3 (source position 2): the host was ended after 612 ms; skipped",
    ]);
    assert.not.ok(existsSync(path), "the overrun file is removed once the skip is journaled");
    const records = [];
    for await (const rec of journal.read("stats/a")) records.push(decodeInputRecord(rec.data));
    assert.equal(records.map((r) => r.kind), ["init", "frame", "frame", "frame", "skip"]);
    assert.is(skippedPosition(records[4]!), 3);
    // a0 and a2 applied, in order, a1 not: the state of a host that never had a1.
    const without = new Host({
      hostId: "w",
      bus: new InProcessBus(),
      actors: [statsActor],
      config: { stats: { every_samples: 10 } },
      journal: new MemoryJournal(),
      snapshots: new MemorySnapshotStore(),
      input: listInput([feed[0]!, feed[2]!, feed[3]!]),
      log: () => {},
    });
    await without.start();
    assert.equal(
      second.instance("stats", "a")!.kernelState,
      without.instance("stats", "a")!.kernelState,
    );
    assert.is(second.instance("stats", "a")!.pos, 5, "past the skip record");
    await Promise.all([second.stop(), without.stop()]);
  } finally {
    dir.remove();
  }
});

test("an overrun input delivered again: the file stays until its dead-letter decision is kept", async () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, "step_overrun.json");
    const overrun = {
      stream: "stats/a",
      kind: "stats",
      key: "a",
      pos: 7,
      src_pos: 12,
      elapsed_ms: 612,
      deadline_ms: 500,
    };
    writeFileSync(path, JSON.stringify(overrun));
    const skip = new StepOverrunSkip(readStepOverrun(path, () => {})!, path, () => {});
    const letters: string[] = [];
    let keep!: () => void;
    const kept = new Promise<void>((resolve) => (keep = resolve));
    const decided: Array<[number, string, string]> = [];
    const decisions = {
      deadLetterKept(srcPos: number, subject: string, reason: string) {
        decided.push([srcPos, subject, reason]);
        return kept;
      },
    };
    const msg = {
      subject: "troupe.feed.sd.a",
      data: new Uint8Array(0),
      headers: undefined,
      reply: undefined,
    };
    const lettersOf = { deadLetter: (m: { subject: string }) => void letters.push(m.subject) };
    assert.not.ok(skip.take(msg, 11, lettersOf, decisions), "another input is not taken");
    assert.ok(skip.take(msg, 12, lettersOf, decisions));
    assert.equal(letters, ["troupe.feed.sd.a"]);
    assert.equal(decided, [[12, "troupe.feed.sd.a", "deadline"]]);
    assert.not.ok(skip.pending);
    assert.not.ok(skip.take(msg, 12, lettersOf, decisions), "taken once");
    // A kill -9 now would find the file, and skip the input again on the next start.
    assert.ok(existsSync(path), "the file stays while the decision is not kept");
    keep();
    await kept;
    await new Promise((r) => setTimeout(r, 0));
    assert.not.ok(existsSync(path), "the file goes once the decision is kept");
  } finally {
    dir.remove();
  }
});

test.run();
