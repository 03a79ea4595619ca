/**
 * Options read from one table: the default that help shows is the default the code uses, a bad
 * value is an error naming the option and the value, and the commands' `num` and the benchmarks'
 * tables share the one numeric check.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { BENCHMARKS, BenchOptionError } from "../../bench/mod.ts";
import { optionsUsage, type OptionTable, readOptions } from "../../bench/_option_table.ts";
import { checkNumber } from "../../protocol/mod.ts";
import { benchmark as detect } from "../../bench/detect.ts";
import { benchmark as failover } from "../../bench/failover.ts";
import { benchmark as incidents } from "../../bench/incidents.ts";
import { benchmark as inject } from "../../bench/inject.ts";
import { num, UsageError } from "../../cli/args.ts";

const test = suite("option table");

const TABLE = {
  runs: { help: "timed runs", default: 5, number: { min: 1, integer: true } },
  mode: { help: "how", arg: "on|off", default: "off", oneOf: ["on", "off"] },
  label: { help: "a name" },
  file: { help: "where to", arg: "F", default: "" },
} satisfies OptionTable;

test("readOptions() gives each absent option its table default, and checks what is given", () => {
  assert.equal(readOptions([], TABLE), { runs: 5, mode: "off", label: undefined, file: "" });
  assert.equal(readOptions(["--runs", "7", "--mode=on", "--label", "x"], TABLE), {
    runs: 7,
    mode: "on",
    label: "x",
    file: "",
  });
  for (
    const [args, message] of [
      [["--runs", "0"], 'Option --runs must be >= 1, got "0"'],
      [["--runs", "1.5"], 'Option --runs must be a whole number, got "1.5"'],
      [["--mode", "maybe"], 'Option --mode must be on or off, got "maybe"'],
      [["--nope", "1"], "--nope"],
      [["stray"], "stray"],
    ] as const
  ) {
    assert.throws(
      () => readOptions([...args], TABLE),
      (e: Error) => e instanceof BenchOptionError && e.message.includes(message),
      args.join(" "),
    );
  }
});

test("optionsUsage() shows each value when not given from the table, so help and code agree", () => {
  const usage = optionsUsage(TABLE);
  assert.match(usage, /--runs N\s+timed runs \(5 when not given\)/);
  assert.match(usage, /--mode on\|off\s+how \(off when not given\)/);
  assert.match(usage, /--label VALUE\s+a name$/m);
  assert.match(usage, /--file F\s+where to$/m);
  assert.match(optionsUsage(inject.options), /--seconds S\s+seconds per rate \(5 when not given\)/);
  assert.match(
    optionsUsage(failover.options),
    /--ttl-ms N\s+the lease TTL \(3000 when not given\)/,
  );
  assert.match(
    optionsUsage(incidents.options),
    /--seeds LIST\s+seeds, e\.g\. [^]* \(1 when not given\)$/m,
  );
  assert.match(
    optionsUsage(detect.options),
    /--market-samples N\s+samples per market channel, 1 s apart \(100000 when not given\)/,
  );
});

test("a benchmark on the table refuses a bad option before it starts anything", async () => {
  const ctx = { log: () => {}, json: false };
  for (
    const [args, message] of [
      [["--ttl-ms", "100"], 'Option --ttl-ms must be >= 500, got "100"'],
      [["--partitions", "2.5"], 'Option --partitions must be a whole number, got "2.5"'],
      [["--seed", "1"], "--seed"],
    ] as const
  ) {
    const err = await failover.run([...args], ctx).then(() => undefined, (e: Error) => e);
    assert.instance(err, BenchOptionError, args.join(" "));
    assert.match(err!.message, message);
  }
  for (
    const [args, message] of [
      [["--seeds", "3-1"], 'the range "3-1" runs backwards, got "3-1"'],
      [["--seed", "1"], "--seed"],
    ] as const
  ) {
    const err = await incidents.run([...args], ctx).then(() => undefined, (e: Error) => e);
    assert.instance(err, BenchOptionError, args.join(" "));
    assert.match(err!.message, message);
  }
  for (
    const [args, message] of [
      [["--seed", "1", "--seeds", "1-2"], "Options --seed and --seeds cannot be given together"],
      [["--seed=-1"], 'Option --seed must be >= 0, got "-1"'],
      [["--metrics-samples", "0.5"], 'Option --metrics-samples must be a whole number, got "0.5"'],
      [["--config", "[]"], "Option --config must be a JSON object of kinds, got []"],
    ] as const
  ) {
    const err = await detect.run([...args], ctx).then(() => undefined, (e: Error) => e);
    assert.instance(err, BenchOptionError, args.join(" "));
    assert.match(err!.message, message);
  }
});

test("checkNumber() is the commands' check too: num() throws its UsageError with the same words", () => {
  const benchError = (message: string) => new BenchOptionError(message);
  assert.is(checkNumber("x", "2.5", { min: 2, exclusiveMin: true }, benchError), 2.5);
  assert.throws(
    () =>
      num({
        values: { x: "2" },
        positionals: [],
        options: { x: { type: "string", help: "x", number: { min: 2, exclusiveMin: true } } },
      }, "x"),
    (e: Error) => e instanceof UsageError && e.message === 'Option --x must be > 2, got "2"',
  );
});

test("readOptions() reads a flag (true when given, else false) and a oneOf's string", () => {
  const table = {
    trace: { help: "also trace", flag: true },
    cv: { help: "folds", default: "none", oneOf: ["none", "2"] as const },
  } satisfies OptionTable;
  const none: { trace: boolean; cv: "none" | "2" } = readOptions([], table);
  assert.equal(none, { trace: false, cv: "none" });
  assert.equal(readOptions(["--trace", "--cv", "2"], table), { trace: true, cv: "2" });
  assert.throws(() => readOptions(["--trace=yes"], table), /--trace/);
  assert.match(optionsUsage(table), /^ {2}--trace {5}also trace$/m);
});

test("optionsUsage() wraps a long help at 100 columns, under the help's first column", () => {
  const help = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");
  const lines = optionsUsage({ long: { help, arg: "X", default: 1, number: {} } }).split("\n");
  assert.ok(lines.length >= 3, lines.join("\n"));
  for (const line of lines) assert.ok(line.length <= 100, line);
  assert.ok(lines.slice(1).every((l) => l.startsWith(" ".repeat(12)) && l[12] !== " "));
  assert.is(lines.join(" ").replace(/\s+/g, " ").trim(), `--long X ${help} (1 when not given)`);
});

test("every benchmark has its option table: its help is the table's, and it refuses an unknown option", async () => {
  const ctx = { log: () => {}, json: false };
  for (const [name, load] of Object.entries(BENCHMARKS)) {
    const { benchmark } = await load();
    const entries = Object.entries(benchmark.options);
    assert.ok(entries.length > 0, `${name} has no options`);
    for (const [option, o] of entries) assert.ok(o.help.length > 0, `${name} --${option}`);
    const usage = optionsUsage(benchmark.options);
    for (const line of usage.split("\n")) assert.ok(line.length <= 100, `${name}: ${line}`);
    const err = await Promise.resolve().then(() => benchmark.run(["--no-such-option", "1"], ctx))
      .then(() => undefined, (e: Error) => e);
    assert.instance(err, BenchOptionError, name);
    assert.match(err!.message, "--no-such-option", name);
  }
});

test("no benchmark's help text states its value when not given: it comes from the table's default field", async () => {
  const stated: string[] = [];
  for (const [name, load] of Object.entries(BENCHMARKS)) {
    const { benchmark } = await load();
    for (const [option, o] of Object.entries(benchmark.options)) {
      if (/default|when not given\)/.test(o.help)) stated.push(`${name} --${option}: "${o.help}"`);
    }
  }
  assert.equal(stated, [], `a default written in the help text:\n${stated.join("\n")}`);
});

test.run();
