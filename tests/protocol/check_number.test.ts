/**
 * The one check of a number given as text (a command's or a benchmark's option), and the bounds it
 * shares with the configuration's readNumber: each names the option or field, the rule and the value.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { checkNumber, ConfigError, readNumber } from "../../protocol/mod.ts";

const test = suite("checkNumber");

class OptionError extends Error {}
const optionError = (message: string) => new OptionError(message);

test("checkNumber() returns the number within its bounds", () => {
  assert.is(checkNumber("rate", "2.5", { min: 2, exclusiveMin: true }, optionError), 2.5);
  assert.is(checkNumber("n", "64", { min: 1, max: 64, integer: true }, optionError), 64);
});

test("checkNumber() throws the caller's error naming the option, the rule and the text", () => {
  for (
    const [raw, bounds, message] of [
      ["", {}, 'Option --n must be a number, got ""'],
      ["abc", {}, 'Option --n must be a number, got "abc"'],
      ["1.5", { integer: true }, 'Option --n must be a whole number, got "1.5"'],
      ["0", { min: 0, exclusiveMin: true }, 'Option --n must be > 0, got "0"'],
      ["-1", { min: 0 }, 'Option --n must be >= 0, got "-1"'],
      ["65", { max: 64 }, 'Option --n must be <= 64, got "65"'],
    ] as const
  ) {
    assert.throws(
      () => checkNumber("n", raw, bounds, optionError),
      (e: Error) => e instanceof OptionError && e.message === message,
      raw,
    );
  }
});

test("readNumber() keeps an exclusive minimum too, naming the field", () => {
  assert.is(readNumber({ rate: 1 }, "rate", "feed", 5, { min: 0, exclusiveMin: true }), 1);
  assert.throws(
    () => readNumber({ rate: 0 }, "rate", "feed", 5, { min: 0, exclusiveMin: true }),
    (e: Error) => e instanceof ConfigError && e.message === 'Field "feed.rate" must be > 0, got 0',
  );
});

test.run();
