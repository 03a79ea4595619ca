/**
 * `troupe sim`'s summary line gives the simulation's speed as virtual seconds per real second; a
 * run slower than real time (a loaded machine, a long fault schedule) once read "(0x)".
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { speedFactor } from "../../cli/sim_summary.ts";

const test = suite("troupe sim");

test("speedFactor() keeps two digits below 10x, so a slow run is not 0x", () => {
  assert.is(speedFactor(0.1897), "0.19x");
  assert.is(speedFactor(0.004), "0.0040x");
  assert.is(speedFactor(1), "1.0x");
  assert.is(speedFactor(9.96), "10x");
  assert.is(speedFactor(12.4), "12x");
  assert.is(speedFactor(250), "250x");
});

test.run();
