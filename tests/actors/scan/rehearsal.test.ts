/**
 * The rehearsal of the scan path a host runs when its scans start (actors/scan/_rehearsal.ts): a
 * service and a worker of its own scan the host's bars with a criteria reading every indicator and
 * operator, a chunk per turn of the event loop, and leave nothing behind but compiled code.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { compileCriteria, INDICATORS } from "../../../actors/criteria/mod.ts";
import type { BarsSource } from "../../../actors/scan/mod.ts";
import { REHEARSAL_SYMBOLS, rehearseScans } from "../../../actors/scan/_rehearsal.ts";
import { warmUpCriteria } from "../../../actors/scan/_warm_up_criteria.ts";
import { source, universe } from "./_scan_setup.ts";

const test = suite("rehearseScans");

test("warmUpCriteria() reads every indicator of the language, each of its values, and every operator", () => {
  const { criteria, rank } = warmUpCriteria();
  for (const spec of INDICATORS.values()) {
    const outputs = spec.outputs.filter((o) => !o.startsWith("_"));
    for (const out of outputs) {
      const call = new RegExp(`\\b${spec.name}\\([^)]*\\)${outputs.length > 1 ? `\\.${out}` : ""}`);
      assert.match(criteria, call, `${spec.name} ${out}`);
    }
  }
  assert.match(criteria, /\bsma\(volume, 14\)/);
  for (const op of ["+", "-", "*", "/", "<", "<=", ">", ">=", "==", "!="]) {
    assert.ok(criteria.includes(` ${op} `), op);
  }
  for (const word of ["and", "or", "not", "crosses_above", "crosses_below"]) {
    assert.match(criteria, new RegExp(`\\b${word}\\b`), word);
  }
  // Every value is summed, then the operators: a symbol with history enough always matches.
  const compiled = compileCriteria(criteria, { rank });
  assert.is(compiled.evaluate(universe(1).get("S0000")!).kind, "match");
});

/** `u`'s bars, recording each symbol whose bars were read. */
function recording(u: ReturnType<typeof universe>) {
  const held = source(u);
  const read: string[] = [];
  const bars: BarsSource = {
    ...held,
    bars: (symbol, bar) => {
      read.push(symbol);
      return held.bars(symbol, bar);
    },
  };
  return { held, read, bars };
}

test("rehearseScans() scans the first REHEARSAL_SYMBOLS held symbols of each bar size between turns of the event loop, and counts those with history enough", async () => {
  const u = universe(300);
  const { held, read, bars } = recording(u);
  // A timer chain: each turn records how many bars had been read by then.
  const seen: number[] = [];
  let rehearsing = true;
  const tick = () => {
    seen.push(read.length);
    if (rehearsing) setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  // "1h" is not held: its symbols are unknown there, and none is evaluated.
  const evaluated = await rehearseScans(bars, ["1m", "1h"]).done;
  rehearsing = false;
  const first = held.symbols().slice(0, REHEARSAL_SYMBOLS);
  const needed = compileCriteria(warmUpCriteria().criteria).barsNeeded;
  const enough = first.filter((s) => u.get(s)!.close.length >= needed);
  assert.ok(enough.length < first.length, "some symbols have too little history: a poor test");
  assert.is(evaluated, enough.length);
  assert.equal(new Set(read), new Set(first), "the first symbols, and only those");
  const total = read.length;
  assert.ok(
    seen.some((k) => k > 0 && k < total / 2),
    `the timers ran only before or after the scans: ${seen.join(" ")}`,
  );
});

test("a rehearsal stopped mid-way ends at once, with what it evaluated", async () => {
  const u = universe(300);
  const { read, bars } = recording(u);
  const rehearsal = rehearseScans(bars, ["1m", "1m", "1m"]);
  await new Promise((r) => setTimeout(r, 0));
  rehearsal.stop();
  const evaluated = await rehearsal.done;
  assert.ok(evaluated < REHEARSAL_SYMBOLS, `${evaluated} evaluated`);
  const at = read.length;
  await new Promise((r) => setTimeout(r, 50));
  assert.is(read.length, at, "nothing read after the end");
  assert.ok(at < 3 * REHEARSAL_SYMBOLS);
});

test.run();
