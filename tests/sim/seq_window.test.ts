import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Prng } from "../../sim/prng/mod.ts";
import { SeqWindow } from "../../sim/_seq_window.ts";

const test = suite("seq_window");

test("SeqWindow holds what a Map would for sequences within its window", () => {
  const seed = 3;
  const rng = new Prng(seed);
  const capacity = 16;
  const w = new SeqWindow<string>(capacity);
  const m = new Map<number, string>();
  let base = 1;
  for (let i = 0; i < 5000; i++) {
    // As a feed consumer uses it: sequences past the one expected, within the window.
    const seq = base + 1 + rng.int(capacity);
    if (rng.chance(0.5)) {
      w.set(seq, `v${i}`);
      m.set(seq, `v${i}`);
    } else if (m.has(base + 1) || rng.chance(0.3)) {
      base++;
      w.delete(base);
      m.delete(base);
    }
    for (let s = base + 1; s <= base + capacity; s++) {
      assert.is(w.get(s), m.get(s), `seed ${seed}, step ${i}, seq ${s}`);
      assert.is(w.has(s), m.has(s), `seed ${seed}, step ${i}, seq ${s}`);
    }
    assert.is(w.size, m.size, `seed ${seed}, step ${i}`);
  }
});

test("SeqWindow refuses a capacity that is not a positive integer", () => {
  assert.throws(() => new SeqWindow(0), /capacity must be an integer in \[1, 2\^20\], got 0/);
  assert.throws(() => new SeqWindow(1.5), /got 1.5/);
});

test.run();
