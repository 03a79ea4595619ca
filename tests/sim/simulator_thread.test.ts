import { suite } from "uvu";
import * as assert from "uvu/assert";
import process from "node:process";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import { zscore } from "../../examples/zscore/zscore.ts";
import { parseFaults } from "../../sim/faults.ts";
import { simulate } from "../../sim/simulator.ts";
import { simulateOnThread } from "../../sim/simulator_thread.ts";
import { runTroupe } from "../_support/cli.ts";

const test = suite("simulator thread");

const onNode = process.env.TROUPE_TEST_RUNTIME !== "deno";

test("troupe sim runs on the simulator's thread on Node, with the trace of a run in process", async () => {
  const r = await runTroupe([
    "sim",
    "--seed",
    "5",
    "--duration",
    "4",
    "--actors",
    "stats",
    "--json",
  ]);
  assert.is(r.code, 0, r.stderr);
  const { result } = JSON.parse(r.stdout);
  // The command's Node runs troupe compiled to JavaScript, where the thread is used; Deno's
  // workers take no heap limits, so there the run stays in process.
  assert.is(result.onThread, onNode);
  const here = await simulate({
    seed: 5,
    durationS: 4,
    faults: parseFaults("all"),
    actors: [ACTOR_KINDS.stats!],
    keepTrace: false,
  });
  assert.ok(here.ok, JSON.stringify(here.violations));
  assert.is(result.ok, true);
  assert.is(result.traceHash, here.traceHash);
  assert.equal(result.stats, here.stats);
});

test("a run with kinds of one's own goes on in process, and says so", async () => {
  const r = await simulateOnThread({
    seed: 2,
    durationS: 2,
    faults: parseFaults("none"),
    actors: [zscore],
    config: {},
    keepTrace: false,
  });
  assert.ok(r.ok, JSON.stringify(r.violations));
  assert.is(r.onThread, false);
});

test("bad options are refused before anything runs, naming the option", async () => {
  try {
    await simulateOnThread({ seed: 1, durationS: -3 });
    assert.unreachable("a negative duration was accepted");
  } catch (err) {
    assert.instance(err, RangeError);
    assert.match((err as Error).message, /durationS/);
  }
});

test.run();
