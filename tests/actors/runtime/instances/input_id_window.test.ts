import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor, type StatsState, statsSummary } from "../../../../actors/stats/mod.ts";
import { ActorInstance } from "../../../../actors/runtime/instances/actor_instance.ts";
import {
  DROPPED_KEPT_MAX,
  INPUT_IDS_MAX,
  InputIdWindow,
  savedWindowOf,
} from "../../../../actors/runtime/instances/input_id_window.ts";
import {
  encodeFrame,
  feedSubject,
  type InputRecord,
  InvariantError,
  savedIds,
  writeFingerprint,
} from "../../../../protocol/mod.ts";
import { Prng } from "../../../../sim/prng/mod.ts";

const test = suite("input_id_window");

test("InputIdWindow keeps the newest ids up to its bound, oldest first, and forgets the oldest", () => {
  const w = new InputIdWindow([], 3);
  for (const id of ["a", "b", "a", "c", "d"]) w.add(id);
  assert.equal(w.save(), savedIds(["b", "c", "d"]));
  assert.is(w.size, 3);
  assert.not.ok(w.has("a"));
  assert.ok(w.has("b") && w.has("d"));
  const restored = new InputIdWindow(["x", "b", "c", "d"], 3);
  assert.equal(restored.save(), savedIds(["b", "c", "d"]));
  assert.equal(new InputIdWindow(w.save(), 3).save(), w.save());
  restored.add("e");
  assert.equal(restored.save(), savedIds(["c", "d", "e"]));
  assert.not.ok(restored.has("x") || restored.has("b"));
  assert.throws(() => new InputIdWindow([], 0), /at least one id, got 0/);
  assert.throws(() => new InputIdWindow(new Uint8Array(12)), /8 bytes an id .* got 12 bytes/);
  assert.equal(savedWindowOf(undefined), new Uint8Array(0));
  assert.equal(savedWindowOf(new Uint8Array(7)), new Uint8Array(0));
  assert.equal(savedWindowOf(["a", 3, "b"]), savedIds(["a", "b"]));
  assert.equal(savedWindowOf(savedIds(["a"])), savedIds(["a"]));
});

test("InputIdWindow reads a saved window's bytes where they lie, at any offset, and keeps no view of them", () => {
  const ids = Array.from({ length: 40 }, (_, i) => `remote_write-1f3a9c0b77e2d451-${i}/k`);
  const saved = savedIds(ids);
  for (const offset of [0, 1, 3, 4, 8]) {
    const holder = new Uint8Array(offset + saved.byteLength + 3).fill(0xee);
    holder.set(saved, offset);
    const bytes = holder.subarray(offset, offset + saved.byteLength);
    const w = new InputIdWindow(bytes, 32, "stats/k");
    holder.fill(0); // the bytes a snapshot lent are written over: the window holds its own
    assert.equal(w.save(), savedIds(ids.slice(-32)), `offset ${offset}`);
    assert.ok(w.has(ids[39]!) && w.has(ids[8]!) && !w.has(ids[7]!), `offset ${offset}`);
  }
});

test("an id's fingerprint is fixed (it is saved): these halves, whatever the runtime", () => {
  const out = new Int32Array(2);
  const halves = (id: string) => (writeFingerprint(id, out, 0), [out[0], out[1]]);
  // Pinned: a change here makes every saved window forget its ids.
  assert.equal(
    ["", "a", "ab", "remote_write-1f3a9c0b77e2d451-0/host-1", "é→"].map(halves),
    PINNED_HALVES,
  );
  assert.equal(savedIds(["a"]), new Uint8Array(new Int32Array(PINNED_HALVES[1]!).buffer));
});

test("fingerprints of a million ids of one feed's shape, and of ids one character apart, do not collide", () => {
  const seen = new Set<bigint>();
  const out = new Int32Array(2);
  const key = (id: string) => {
    writeFingerprint(id, out, 0);
    return (BigInt(out[1]! >>> 0) << 32n) | BigInt(out[0]! >>> 0);
  };
  let n = 0;
  for (let batch = 0; batch < 10_000; batch++) {
    for (let series = 0; series < 100; series++) {
      seen.add(key(`remote_write-1f3a9c0b77e2d451-${batch}/host-${series}`));
      n++;
    }
  }
  for (let i = 0; i < 4_096; i++) {
    for (const c of ["a", "b", "A", "\u00e9", "\u2192"]) {
      seen.add(key(`f-${i.toString(2)}${c}`));
      seen.add(key(`${c}f-${i.toString(2)}`));
      n += 2;
    }
  }
  assert.is(seen.size, n);
  // The low halves alone spread over the table's slots: no slot of 512 takes twice its share.
  const slots = new Uint32Array(512);
  for (let i = 0; i < 51_200; i++) {
    writeFingerprint(`remote_write-1f3a9c0b77e2d451-${i}/host-1`, out, 0);
    slots[out[0]! & 511]!++;
  }
  assert.ok(Math.max(...slots) < 200, `the fullest slot took ${Math.max(...slots)} of ~100`);
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
  for (const max of [1, 2, 3, 7, 256]) {
    const w = new InputIdWindow([], max);
    const recent: string[] = [];
    // Few distinct ids (repeats), of lengths that put many in the same slots (probe chains that
    // wrap around the table, removals from their middle); some longer as the run goes on, some
    // with characters past a byte, some that differ only in a character past 127.
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
      "/k",
      "b-1/k",
      "b-1//k-1",
    ];
    const pool = Array.from({ length: max * 3 + 2 }, (_, i) => `id-${i}-${"x".repeat(rng.int(4))}`)
      .concat(odd);
    for (let step = 0; step < 4_000; step++) {
      const id = rng.chance(0.05)
        ? `long-${step % 7}-${"w".repeat(Math.min(step >> 6, 60))}`
        : pool[rng.int(pool.length)]!;
      const expected = recent.includes(id);
      const where = `seed ${seed}, max ${max}, step ${step}`;
      assert.is(w.has(id), expected, `${where}: has("${id}")`);
      if (rng.chance(0.1)) w.has(pool[rng.int(pool.length)]!); // a lookup between has and add
      w.add(id);
      if (!expected) {
        recent.push(id);
        if (recent.length > max) recent.shift();
      }
      if (step % 97 === 0) assert.equal(w.save(), savedIds(recent), where);
    }
    const back = new InputIdWindow(w.save(), max);
    assert.equal(back.save(), savedIds(recent));
    for (const id of pool) assert.is(back.has(id), recent.includes(id), `restored: has("${id}")`);
  }
});

test("InputIdWindow takes room as it fills: 8 bytes and 4 of table an id, whatever the id's length", () => {
  const key = "host-1000-12_9100-bench-z1-bench_metric_33_seconds";
  const w = new InputIdWindow([], 256);
  // Room for 8 ids, and a table half full at most.
  assert.is(w.bytes, 8 * 8 + 16 * 2);
  const ids = Array.from({ length: 300 }, (_, i) => `remote_write-1f3a9c0b77e2d451-${i}/${key}`);
  for (const id of ids) w.add(id);
  // Full: 256 fingerprints, and a table of 512 slots of 16 bits.
  assert.is(w.bytes, 256 * 8 + 512 * 2);
  assert.equal(w.save(), savedIds(ids.slice(-256)));
  assert.ok(w.has(ids[299]!) && !w.has(ids[43]!) && !w.has(`${ids[299]}x`));
});

test("InputIdWindows spread by their streams start with rooms of 8 to 15 ids and grow apart, holding the same", () => {
  const ids = Array.from({ length: 300 }, (_, i) => `remote_write-1f3a9c0b77e2d451-${i}`);
  const rooms = new Set<number>();
  // The input at which each window first grows, by stream: 9 to 16, not the 9th for all.
  const firstGrowth = new Set<number>();
  for (let c = 0; c < 64; c++) {
    const w = new InputIdWindow([], 256, `anomaly/node_load1{instance="host-${c}:9100"}`);
    const start = w.bytes;
    rooms.add(start);
    for (let i = 0; i < ids.length; i++) {
      w.add(ids[i]!);
      if (w.bytes !== start) {
        firstGrowth.add(i + 1);
        break;
      }
    }
  }
  assert.ok(rooms.size >= 6, `${rooms.size} starting rooms among 64 streams`);
  assert.ok([...firstGrowth].every((n) => n >= 9 && n <= 16), [...firstGrowth].join(","));
  assert.ok(firstGrowth.size >= 6, `first growth at ${[...firstGrowth].join(",")}`);
  // What a window holds and saves is its ids, whatever its room.
  const a = new InputIdWindow([], 256, "stats/a"), b = new InputIdWindow([], 256);
  for (const id of ids) {
    a.add(id);
    b.add(id);
    assert.equal(a.save(), b.save());
  }
  assert.is(a.bytes, 256 * 8 + 512 * 2);
  assert.equal(new InputIdWindow(a.save(), 256, "stats/a").save(), b.save());
});

test("InputIdWindow of more ids than 16-bit table slots index keeps and forgets them in order", () => {
  const max = 70_000;
  const w = new InputIdWindow([], max);
  for (let i = 0; i < max + 5; i++) w.add(`i${i}`);
  assert.ok(!w.has("i0") && !w.has("i4") && w.has("i5") && w.has(`i${max + 4}`));
  assert.ok(w.has("i65535") && w.has("i65536") && w.has("i69999"));
  assert.is(w.size, max);
  assert.equal(w.save().subarray(0, 8), savedIds(["i5"]));
});

test("InputIdWindow keeps the ids it drops while asked to, before its own, deciding as before", () => {
  const w = new InputIdWindow(["a", "b"], 3);
  w.add("c");
  w.keepDropped();
  w.keepDropped(); // a second capture waiting
  for (const id of ["d", "e", "d", "f"]) w.add(id);
  assert.equal(w.save(), savedIds(["d", "e", "f"]), "what it holds is unchanged");
  assert.not.ok(w.has("a") || w.has("c"), "and what it decides");
  assert.equal(w.saveWithDropped(), savedIds(["a", "b", "c", "d", "e", "f"]));
  w.endKeepingDropped();
  w.add("g");
  assert.equal(w.saveWithDropped(), savedIds(["a", "b", "c", "d", "e", "f", "g"]));
  w.endKeepingDropped();
  assert.equal(w.saveWithDropped(), savedIds(["e", "f", "g"]), "none kept once both ended");
  w.endKeepingDropped(); // one too many ends nothing
  w.add("h");
  assert.equal(w.saveWithDropped(), savedIds(["f", "g", "h"]));

  const busy = new InputIdWindow([], 2);
  busy.keepDropped();
  for (let i = 0; i < DROPPED_KEPT_MAX + 2; i++) busy.add(`x${i}`);
  assert.equal(busy.saveWithDropped()!.byteLength, (DROPPED_KEPT_MAX + 2) * 8, "up to its bound");
  busy.add("y");
  assert.is(busy.saveWithDropped(), undefined, "past it, it says it lost some");
  busy.endKeepingDropped();
  assert.equal(busy.saveWithDropped(), savedIds([`x${DROPPED_KEPT_MAX + 1}`, "y"]));
});

test("InputIdWindow.restoring holds a saved window whole, and at least INPUT_IDS_MAX ids", () => {
  const many = Array.from({ length: INPUT_IDS_MAX + 10 }, (_, i) => `m${i}`);
  const wide = InputIdWindow.restoring(savedIds(many));
  assert.is(wide.size, INPUT_IDS_MAX + 10);
  assert.ok(wide.has("m0") && wide.has(`m${INPUT_IDS_MAX + 9}`));
  const few = InputIdWindow.restoring(savedIds(["a"]), "stats/a");
  for (let i = 0; i < INPUT_IDS_MAX - 1; i++) few.add(`f${i}`);
  assert.ok(few.has("a"));
  few.add("last");
  assert.not.ok(few.has("a"), "a window of INPUT_IDS_MAX");
  assert.is(InputIdWindow.restoring(undefined).size, 0);
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
  assert.ok(new InputIdWindow(snap.ids).has("f1"));
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

const PINNED_HALVES = [
  [145942094, -1903754718],
  [107313355, -2112893694],
  [-368831708, -1649067605],
  [-1098138655, -621449070],
  [24050087, 2116495967],
];

test.run();
