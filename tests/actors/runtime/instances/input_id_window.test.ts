import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor, type StatsState, statsSummary } from "../../../../actors/stats/mod.ts";
import { ActorInstance } from "../../../../actors/runtime/instances/actor_instance.ts";
import { idsOf, InputIdWindow } from "../../../../actors/runtime/instances/input_id_window.ts";
import {
  encodeFrame,
  feedSubject,
  type InputRecord,
  InvariantError,
} from "../../../../protocol/mod.ts";
import { Prng } from "../../../../sim/prng/mod.ts";

const test = suite("input_id_window");

test("InputIdWindow keeps the newest ids up to its bound, oldest first, and forgets the oldest", () => {
  const w = new InputIdWindow([], 3);
  for (const id of ["a", "b", "a", "c", "d"]) w.add(id);
  assert.equal(w.toArray(), ["b", "c", "d"]);
  assert.not.ok(w.has("a"));
  assert.ok(w.has("b") && w.has("d"));
  const restored = new InputIdWindow(["x", ...w.toArray()], 3);
  assert.equal(restored.toArray(), ["b", "c", "d"]);
  restored.add("e");
  assert.equal(restored.toArray(), ["c", "d", "e"]);
  assert.throws(() => new InputIdWindow([], 0), /at least one id, got 0/);
  assert.equal(idsOf(undefined), []);
  assert.equal(idsOf(["a", 3, "b"]), ["a", "b"]);
});

function frameRecord(id: string, seq0: number, value: number): InputRecord {
  const t = new Float64Array(4).map((_, i) => 1_700_000_000_000_000 + (seq0 + i) * 1000);
  const v = new Float64Array(4).fill(value);
  return {
    kind: "frame",
    srcPos: 0,
    subject: feedSubject("t", "k"),
    payload: encodeFrame({ channel: "k", seq0, t, v }, { id, src: "t" }),
  };
}

test("InputIdWindow answers as a list of the last ids would, over seeded ids that repeat and collide", () => {
  const seed = 3306;
  const rng = new Prng(seed);
  for (
    const [max, suffix] of [[1, ""], [2, ""], [3, "/k"], [7, ""], [256, ""], [256, "/k-1"]] as const
  ) {
    const w = new InputIdWindow([], max, { suffix });
    const recent: string[] = [];
    // Few distinct ids (repeats), of lengths that put many in the same slots (probe chains that
    // wrap around the table, removals from their middle); some longer as the run goes on (the
    // window's room for characters grows), some with characters past a byte or too long to be
    // kept as characters (kept as strings), some that differ only in a character past 127.
    const odd = [
      "é-1",
      "ë-1",
      "→-1",
      "x".repeat(64),
      "y".repeat(65),
      "z".repeat(65) + "→",
      "",
      `remote_write-1f3a9c0b77e2d451-0/host-1000-12_9100-bench-z1-bench_metric_33_seconds`,
      "u".repeat(127),
      "v".repeat(128),
      // Ids that end with a window's suffix (kept without it), are it, or nearly end with it.
      "/k",
      "/k-1",
      "b-1/k",
      "b-1/k-1",
      "b-1/k-",
      "b-1//k-1",
      `${"s".repeat(124)}/k-1`,
      `${"s".repeat(123)}/k-1`,
      `${"s".repeat(126)}/k`,
      `${"s".repeat(125)}/k`,
      "é/k-1",
    ];
    const pool = Array.from({ length: max * 3 + 2 }, (_, i) => `id-${i}-${"x".repeat(rng.int(4))}`)
      .concat(odd);
    for (let step = 0; step < 4_000; step++) {
      const id = rng.chance(0.05)
        ? `long-${step % 7}-${"w".repeat(Math.min(step >> 6, 60))}`
        : pool[rng.int(pool.length)]!;
      const expected = recent.includes(id);
      const where = `seed ${seed}, max ${max}, suffix "${suffix}", step ${step}`;
      assert.is(w.has(id), expected, `${where}: has("${id}")`);
      if (rng.chance(0.1)) w.has(pool[rng.int(pool.length)]!); // a lookup between has and add
      w.add(id);
      if (!expected) {
        recent.push(id);
        if (recent.length > max) recent.shift();
      }
      if (step % 97 === 0) assert.equal(w.toArray(), recent, where);
    }
    assert.equal(new InputIdWindow(w.toArray(), max, { suffix }).toArray(), recent);
    assert.equal(new InputIdWindow(w.toArray(), max).toArray(), recent);
  }
});

test("InputIdWindow takes room as it fills, and keeps ids that end with its suffix without it", () => {
  const key = "host-1000-12_9100-bench-z1-bench_metric_33_seconds";
  const w = new InputIdWindow([], 256, { suffix: `/${key}` });
  // Room for 8 ids: their hashes and lengths, and a table half full at most.
  assert.is(w.bytes, 8 * 4 + 8 + 16 * 2);
  const ids = Array.from({ length: 300 }, (_, i) => `remote_write-1f3a9c0b77e2d451-${i}/${key}`);
  for (const id of ids) w.add(id);
  // Full: 256 entries of the up to 33 characters before the suffix, their hashes and lengths,
  // and a table of 512 slots of 16 bits.
  assert.is(w.bytes, 256 * 33 + 256 * 4 + 256 + 512 * 2);
  assert.equal(w.toArray(), ids.slice(-256));
  assert.ok(w.has(ids[299]!) && !w.has(ids[43]!) && !w.has(`${ids[299]}x`));
  const plain = new InputIdWindow([], 256);
  for (const id of ids) plain.add(id);
  assert.is(plain.bytes, 256 * 84 + 256 * 4 + 256 + 512 * 2);
});

test("InputIdWindow of more ids than 16-bit table slots index keeps and forgets them in order", () => {
  const max = 70_000;
  const w = new InputIdWindow([], max);
  for (let i = 0; i < max + 5; i++) w.add(`i${i}`);
  assert.ok(!w.has("i0") && !w.has("i4") && w.has("i5") && w.has(`i${max + 4}`));
  assert.ok(w.has("i65535") && w.has("i65536") && w.has("i69999"));
  assert.is(w.toArray().length, max);
  assert.is(w.toArray()[0], "i5");
});

test("InputIdWindow.toArray() gives the ids as kept, ASCII ones decoded at once, before and after a character past 127", () => {
  const seed = 5117;
  const rng = new Prng(seed);
  const w = new InputIdWindow([], 256);
  const recent: string[] = [];
  const add = (id: string) => {
    if (w.has(id)) return;
    w.add(id);
    recent.push(id);
    if (recent.length > 256) recent.shift();
  };
  // Ids that grow longer as the run goes (the room for characters is laid out again), then one
  // with a character past 127, after which every id is decoded on its own.
  for (let step = 0; step < 1_500; step++) {
    add(`sim:SYM${rng.int(20)}:${step}:${"w".repeat(Math.min(step >> 5, 50))}`);
    if (step === 1_000) add("café-1");
    if (step % 101 === 0) assert.equal(w.toArray(), recent, `seed ${seed}, step ${step}`);
  }
  assert.equal(w.toArray(), recent);
  assert.equal(new InputIdWindow(recent.slice(0, 40), 256).toArray(), recent.slice(0, 40));
});

test("an instance applies an input id once, whatever the frame, and its snapshot keeps the window", () => {
  const inst = ActorInstance.create(statsActor, "k", { every_samples: 4 });
  inst.skip(1, 0);
  const first = inst.apply(frameRecord("f1", 0, 1), 2);
  const again = inst.apply(frameRecord("f1", 4, 50), 3);
  assert.is(first.length, 1);
  assert.equal(again, []);
  assert.is(inst.pos, 3, "the duplicate is consumed");
  assert.is(inst.duplicates, 1);
  assert.is(statsSummary(inst.kernelState as StatsState).count, 4);
  const snap = inst.snapshot();
  assert.ok(snap.ids!.includes("f1"));
  const back = ActorInstance.restore(statsActor, "k", snap);
  assert.equal(back.apply(frameRecord("f1", 8, 9), 4), []);
  const next = back.apply(frameRecord("f2", 8, 3), 5);
  assert.is(next.length, 1);
  assert.is(next[0]!.id, "f2:stats:k:0");
  assert.is(statsSummary(back.kernelState as StatsState).count, 8);
});

test("an instance refuses a journal position that does not rise, before applying anything", () => {
  const inst = ActorInstance.create(statsActor, "k", { every_samples: 4 });
  inst.skip(1, 0);
  inst.apply(frameRecord("f1", 0, 1), 2);
  const count = statsSummary(inst.kernelState as StatsState).count;
  for (const pos of [2, 1]) {
    assert.throws(
      () => inst.apply(frameRecord(`g${pos}`, 4, 2), pos),
      (e: Error) =>
        e instanceof InvariantError &&
        e.message === `Actor stats/k was handed journal position ${pos} after 2`,
    );
  }
  assert.throws(() => inst.skip(2, 0), (e: Error) => e instanceof InvariantError);
  assert.is(statsSummary(inst.kernelState as StatsState).count, count, "nothing applied");
  assert.is(inst.pos, 2);
});

test.run();
