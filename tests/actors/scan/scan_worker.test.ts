/**
 * The scan worker's warm-up (ScanWorker.warm): the evaluation path of a chunk run off the record
 * over a few hundred held symbols, in slices between yields to the event loop, publishing nothing.
 * Scanning itself is tested through the service (scan_service.test.ts, scan_nats.test.ts).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { InProcessBus } from "../../../actors/runtime/mod.ts";
import { compileCriteria, INDICATORS } from "../../../actors/criteria/mod.ts";
import {
  type BarsSource,
  ScanWorker,
  WARM_EVAL_SLICE_SYMBOLS,
  WARM_EVAL_SYMBOLS,
} from "../../../actors/scan/mod.ts";
import { warmUpCriteria } from "../../../actors/scan/_warm_up_criteria.ts";
import { source, universe } from "./_scan_setup.ts";

const test = suite("ScanWorker");

test("warmUpCriteria() reads every indicator of the language, each of its values, and compiles", () => {
  const { criteria, rank } = warmUpCriteria();
  for (const spec of INDICATORS.values()) {
    const outputs = spec.outputs.filter((o) => !o.startsWith("_"));
    for (const out of outputs) {
      const call = new RegExp(`\\b${spec.name}\\([^)]*\\)${outputs.length > 1 ? `\\.${out}` : ""}`);
      assert.match(criteria, call, `${spec.name} ${out}`);
    }
  }
  assert.match(criteria, /\bsma\(volume, 14\)/);
  for (
    const op of ["+", "-", "*", "/", "<", "<=", ">", ">=", "==", "!=", " and ", " or ", "not "]
  ) {
    assert.ok(criteria.includes(op), op);
  }
  assert.match(criteria, /crosses_above/);
  assert.match(criteria, /crosses_below/);
  const compiled = compileCriteria(criteria, { rank });
  // Every term is summed: a symbol with history enough always matches.
  const bars = universe(1).get("S0000")!;
  assert.is(compiled.evaluate(bars).kind, "match");
});

test("warm() evaluates up to WARM_EVAL_SYMBOLS held symbols per bar size in slices between yields, publishes nothing, and stops with the worker", async () => {
  const u = universe(300);
  const held = source(u);
  const read: string[] = [];
  const recording: BarsSource = {
    ...held,
    bars: (symbol, bar) => {
      read.push(symbol);
      return held.bars(symbol, bar);
    },
  };
  const bus = new InProcessBus();
  const worker = new ScanWorker({ bus, bars: recording, id: "w" });
  assert.is(await worker.warm(["1m"]), 0, "not started: nothing evaluated");
  worker.start();
  // A timer chain: each turn records how many symbols the warm-up has read by then.
  const seen: number[] = [];
  let warming = true;
  const tick = () => {
    seen.push(read.length);
    if (warming) setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  // "1h" is not held: its symbols are unknown there, and none is evaluated.
  const evaluated = await worker.warm(["1m", "1h"]);
  warming = false;
  const first = held.symbols().slice(0, WARM_EVAL_SYMBOLS);
  const needed = compileCriteria(warmUpCriteria().criteria).barsNeeded;
  const enough = first.filter((s) => u.get(s)!.close.length >= needed);
  assert.ok(enough.length < first.length, "some symbols have too little history: a poor test");
  assert.is(evaluated, enough.length);
  assert.equal(read, [...first, ...first]);
  assert.ok(
    seen.some((n) => n > 0 && n < first.length),
    `timers ran only before or after the first bar size's slices: ${seen.join(" ")}`,
  );
  assert.ok(WARM_EVAL_SLICE_SYMBOLS < first.length);
  assert.is(bus.counters.published, 0, "nothing published");
  assert.is(worker.chunks, 0, "no chunk counted");

  // Stopped mid-way: it resolves at its next slice, with what it evaluated so far.
  read.length = 0;
  const stopped = worker.warm(["1m"]);
  setTimeout(() => worker.stop(), 0);
  assert.ok((await stopped) < enough.length);
  assert.ok(read.length < first.length);
  await bus.close();
});

test.run();
