/**
 * One option, one shape: a command's option (cli/args.ts) and a benchmark's (bench's option
 * table) are both protocol's OptionValueSpec, read by one check and described by one default note,
 * so the same spec gives the same value, the same error and the same help in both.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { checkOptionText, defaultNote, type OptionValueSpec } from "../../protocol/mod.ts";
import { optionsUsage, readOptions } from "../../bench/_option_table.ts";
import { BenchOptionError } from "../../bench/mod.ts";
import { helpText, num, parseCommandArgs, str, UsageError } from "../../cli/args.ts";

const test = suite("option value");

const RUNS = { help: "timed runs", default: 5, number: { min: 1, integer: true } };
const MODE = { help: "how", arg: "on|off", default: "off", oneOf: ["on", "off"] };
const UNTIL = { help: "stop after N", arg: "N", defaultText: "no limit", number: { min: 1 } };

const fail = (message: string) => new Error(message);

test("checkOptionText() checks a number's bounds and a oneOf, naming option and value", () => {
  assert.is(checkOptionText("runs", "7", RUNS, fail), 7);
  assert.is(checkOptionText("mode", "on", MODE, fail), "on");
  assert.is(checkOptionText("label", "x", { help: "a name" }, fail), "x");
  assert.throws(
    () => checkOptionText("runs", "0", RUNS, fail),
    /^Option --runs must be >= 1, got "0"$/,
  );
  assert.throws(
    () => checkOptionText("mode", "maybe", MODE, fail),
    /^Option --mode must be on or off, got "maybe"$/,
  );
});

test("defaultNote() prints the value when not given from the spec: a value, a text, or nothing", () => {
  assert.is(defaultNote(RUNS), "(5 when not given)");
  assert.is(defaultNote(UNTIL), "(when not given: no limit)");
  assert.is(defaultNote({ help: "x", default: "" }), undefined);
  assert.is(defaultNote({ help: "x" }), undefined);
});

test("a command and a benchmark read one spec alike: same value, same error, same note", () => {
  const specs: Record<string, OptionValueSpec> = { runs: RUNS, mode: MODE, until: UNTIL };
  const command = {
    name: "t",
    summary: "a test",
    usage: "[options]",
    options: Object.fromEntries(
      Object.entries(specs).map(([name, spec]) => [name, { ...spec, type: "string" as const }]),
    ),
    run: () => Promise.resolve(0),
  };
  const table = readOptions([], specs);
  const args = parseCommandArgs(command, []);
  assert.equal([num(args, "runs"), str(args, "mode")], [table.runs, table.mode]);
  const typed = ["--runs", "9", "--mode", "on"];
  const fromTable = readOptions(typed, specs);
  const fromCommand = parseCommandArgs(command, typed);
  assert.equal([num(fromCommand, "runs"), str(fromCommand, "mode")], [
    fromTable.runs,
    fromTable.mode,
  ]);
  for (const bad of [["--runs", "1.5"], ["--mode", "maybe"]]) {
    const benchErr = (() => {
      try {
        readOptions(bad, specs);
      } catch (e) {
        return e as Error;
      }
    })();
    const parsed = parseCommandArgs(command, bad);
    const cliErr = (() => {
      try {
        num(parsed, "runs");
        str(parsed, "mode");
      } catch (e) {
        return e as Error;
      }
    })();
    assert.instance(benchErr, BenchOptionError, bad.join(" "));
    assert.instance(cliErr, UsageError, bad.join(" "));
    assert.is(cliErr!.message, benchErr!.message);
  }
  const help = helpText(command);
  const usage = optionsUsage(specs);
  for (const note of ["(5 when not given)", "(off when not given)", "(when not given: no limit)"]) {
    assert.ok(help.includes(note), `command help: ${note}`);
    assert.ok(usage.includes(note), `bench usage: ${note}`);
  }
});

test.run();
