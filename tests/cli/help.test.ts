/**
 * What a new user reads first: `troupe --help` lists every command of cli/commands/, and each
 * command's `--help` says what it does, gives each option's value when not given (or says it is
 * required) and shows examples that the command accepts. No help, a command's or a benchmark's,
 * says "default" (a house rule: it says what happens without the option). An argument a command
 * does not take is a usage error naming it, never silently ignored (`troupe up extra` once started
 * a whole cluster), and a bad value of an option is one naming the option and the value.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  duration,
  helpText,
  num,
  optionHelp,
  type OptionSpec,
  parseCommandArgs,
  type ParsedArgs,
  text,
  UsageError,
} from "../../cli/args.ts";
import { commandNames, loadCommand } from "../../cli/main.ts";
import { BENCHMARKS } from "../../bench/mod.ts";
import { ROOT, runTroupe } from "../_support/cli.ts";

const test = suite("troupe help");

/** The words of a shell command line: quotes group and are removed, as a shell does. */
function shellWords(line: string): string[] {
  return (line.match(/'[^']*'|"[^"]*"|\S+/g) ?? []).map((w) =>
    /^'.*'$|^".*"$/.test(w) ? w.slice(1, -1) : w
  );
}

/** The example command lines of a help text: `  troupe <name> ...` after an "Examples:" line. */
function examplesOf(help: string, name: string): string[][] {
  const lines = help.split("\n");
  const start = lines.findIndex((l) => /^Examples?:/.test(l));
  if (start < 0) return [];
  const examples: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith(`  troupe ${name}`)) break;
    // A description may follow the command after a run of spaces.
    examples.push(shellWords(line.trim().split(/ {3,}/)[0]!).slice(2));
  }
  return examples;
}

test("troupe --help lists every command of cli/commands/, and each one loads", async () => {
  const files = readdirSync(join(ROOT, "cli/commands"))
    .filter((f) => f.endsWith(".ts"))
    .map((f) => f.slice(0, -3))
    .sort();
  assert.equal([...commandNames()].sort(), files);
  const r = await runTroupe(["--help"]);
  assert.is(r.code, 0, r.stderr);
  for (const name of files) {
    assert.match(r.stdout, new RegExp(`^  ${name} +\\S`, "m"), `troupe --help lists ${name}`);
    assert.is((await loadCommand(name)).name, name);
  }
});

test("every command's help gives examples, and the command accepts each of them", async () => {
  const missing: string[] = [];
  for (const name of commandNames()) {
    const command = await loadCommand(name);
    const examples = examplesOf(helpText(command), name);
    if (examples.length === 0) missing.push(name);
    // bench takes its benchmark's options after the name; its examples are checked by running.
    if (command.runRaw && name === "bench") continue;
    for (const argv of examples) {
      try {
        parseCommandArgs(command, argv);
      } catch (err) {
        assert.unreachable(`troupe ${name} ${argv.join(" ")}: ${(err as Error).message}`);
      }
    }
  }
  assert.equal(missing, [], `no examples in the help of: ${missing.join(", ")}`);
});

test("each command's usage line names every option it parses, and every value a one-of option takes", async () => {
  const missing: string[] = [];
  for (const name of commandNames()) {
    const command = await loadCommand(name);
    for (const [option, spec] of Object.entries(command.options)) {
      if (!new RegExp(`--${option}(?![\\w-])`).test(command.usage)) {
        missing.push(`troupe ${name}: --${option}`);
      }
      for (const value of spec.oneOf ?? []) {
        if (!command.usage.includes(value)) missing.push(`troupe ${name}: --${option} ${value}`);
      }
    }
  }
  assert.equal(missing, [], `left out of the usage line: ${missing.join(", ")}`);
});

test("every option that takes a value says what it is when not given, or that it is required", async () => {
  const silent: string[] = [];
  for (const name of commandNames()) {
    const command = await loadCommand(name);
    for (const [option, spec] of Object.entries(command.options)) {
      if (spec.type === "string" && !/when not given|required/i.test(optionHelp(spec))) {
        silent.push(`troupe ${name} --${option}`);
      }
    }
  }
  assert.equal(silent, [], `nothing said of the value when not given: ${silent.join(", ")}`);
});

test("no option's help text states its value when not given: it comes from the spec's default field", async () => {
  const stated: string[] = [];
  for (const name of commandNames()) {
    const command = await loadCommand(name);
    for (const [option, spec] of Object.entries(command.options)) {
      if (/default|when not given/i.test(spec.help)) {
        stated.push(`troupe ${name} --${option}: "${spec.help}"`);
      }
    }
  }
  assert.equal(stated, [], `a default written in the help text:\n${stated.join("\n")}`);
});

/** The value the command reads for option `name`: by its spec, as the command's code reads it. */
function readValue(args: ParsedArgs, name: string, spec: OptionSpec): number | string {
  if (spec.duration) return duration(args, name);
  if (typeof spec.default === "number") return num(args, name);
  return text(args, name);
}

test("the value each option's help prints for when it is not given is the value read then", async () => {
  let checked = 0;
  for (const name of commandNames()) {
    const command = await loadCommand(name);
    const help = helpText(command).split("\n");
    for (const [option, spec] of Object.entries(command.options)) {
      if (spec.default === undefined || spec.defaultText !== undefined) continue;
      const line = help.find((l) => new RegExp(`^  (-\\w, )?--${option}\\b`).test(l)) ?? "";
      const printed = /\((\S+) when not given\)$/.exec(line)?.[1];
      const where = `troupe ${name} --${option}`;
      assert.is(printed, String(spec.default), `${where}: help prints its value: ${line}`);
      const absent = readValue(parseCommandArgs(command, []), option, spec);
      const typed = readValue(parseCommandArgs(command, [`--${option}`, printed!]), option, spec);
      assert.is(absent, spec.default, `${where}: read when absent`);
      assert.is(typed, absent, `${where}: the printed default, typed, reads the same`);
      checked++;
    }
  }
  // Every command that has a value default: ctl, collab, incidents, inject, record, replay, scan,
  // sim, token, up, watch.
  assert.ok(checked >= 30, `only ${checked} options have a default in their spec`);
});

test("an argument a command does not take is a usage error naming it", async () => {
  for (const name of commandNames()) {
    const command = await loadCommand(name);
    if (command.takesArguments || command.runRaw && name === "bench") continue;
    assert.throws(
      () => parseCommandArgs(command, ["extra"]),
      (err: Error) =>
        err instanceof UsageError &&
        err.message === `Unexpected argument "extra": troupe ${name} takes options only ` +
            "(each starts with --)",
      `troupe ${name} extra`,
    );
  }
  const r = await runTroupe(["up", "--no-nats", "extra"]);
  assert.is(r.code, 2, r.stdout);
  assert.is(
    r.stderr.replace(/^npm warn.*\n/gm, ""),
    'troupe up: Unexpected argument "extra": troupe up takes options only (each starts with --)\n' +
      "Run troupe up --help for its options.\n",
  );
  assert.is(r.stdout, "", "nothing started");
});

/** Runs `argvs` through the CLI, `n` at a time; their results in order. */
async function runAll(argvs: string[][], n = 4): Promise<Awaited<ReturnType<typeof runTroupe>>[]> {
  const out: Awaited<ReturnType<typeof runTroupe>>[] = [];
  for (let i = 0; i < argvs.length; i += n) {
    out.push(...await Promise.all(argvs.slice(i, i + n).map((a) => runTroupe(a))));
  }
  return out;
}

/** The options a help text must name: `--name ARG` (or `--name` for a flag). */
function namesEvery(help: string, options: Record<string, { arg?: string; flag?: boolean }>) {
  const missing: string[] = [];
  for (const [name, o] of Object.entries(options)) {
    const head = o.arg && !o.flag ? `--${name} ${o.arg}` : `--${name}`;
    if (
      !new RegExp(`^  (-\\w, )?${head.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?=\\s|$)`, "m")
        .test(help)
    ) missing.push(head);
  }
  return missing;
}

test("every help the CLI prints, troupe's, each command's and each benchmark's, exits 0, names every option with what it takes, and never says \"default\"", async () => {
  const commands = [...commandNames()];
  const benches = Object.keys(BENCHMARKS).sort();
  const argvs = [
    ["--help"],
    ...commands.map((c) => [c, "--help"]),
    ...benches.map((b) => ["bench", b, "--help"]),
  ];
  const results = await runAll(argvs);
  const bad: string[] = [];
  for (const [i, argv] of argvs.entries()) {
    const r = results[i]!;
    const where = `troupe ${argv.join(" ")}`;
    if (r.code !== 0) bad.push(`${where}: exit ${r.code}: ${r.stderr}`);
    const said = r.stdout.split("\n").filter((l) => /default/i.test(l));
    if (said.length > 0) bad.push(`${where} says "default":\n${said.join("\n")}`);
    const name = argv[0] === "bench" && argv[1] !== "--help" ? argv.slice(0, 2).join(" ") : argv[0];
    if (argv[0] !== "--help" && !r.stdout.startsWith(`troupe ${name} — `)) {
      bad.push(`${where} does not start with "troupe ${name} — ": ${r.stdout.slice(0, 80)}`);
    }
  }
  for (const [i, name] of commands.entries()) {
    const command = await loadCommand(name);
    const options = Object.fromEntries(
      Object.entries(command.options).map(([o, spec]) => [o, {
        ...(spec.arg === undefined ? {} : { arg: spec.arg }),
        flag: spec.type === "boolean",
      }]),
    );
    const missing = namesEvery(results[1 + i]!.stdout, options);
    if (missing.length > 0) bad.push(`troupe ${name} --help does not name ${missing.join(", ")}`);
  }
  for (const [i, name] of benches.entries()) {
    const bench = (await BENCHMARKS[name]!()).benchmark;
    const options = Object.fromEntries(
      Object.entries(bench.options).map(([o, spec]) => [o, {
        arg: spec.arg ?? (spec.number ? "N" : "VALUE"),
        flag: spec.flag === true,
      }]),
    );
    const missing = namesEvery(results[1 + commands.length + i]!.stdout, options);
    if (missing.length > 0) {
      bad.push(`troupe bench ${name} --help does not name ${missing.join(", ")}`);
    }
  }
  assert.equal(bad, [], bad.join("\n"));
});

test("a bad value of any command's number, duration or one-of option is a usage error naming the option and the value", async () => {
  let checked = 0;
  for (const name of commandNames()) {
    const command = await loadCommand(name);
    for (const [option, spec] of Object.entries(command.options)) {
      if (spec.type !== "string" || !(spec.number || spec.duration || spec.oneOf)) continue;
      const args = parseCommandArgs(command, [`--${option}`, "zz"]);
      const read = () =>
        spec.duration
          ? duration(args, option)
          : spec.number
          ? num(args, option)
          : text(args, option);
      assert.throws(
        read,
        (err: Error) =>
          err instanceof UsageError && err.message.startsWith(`Option --${option} `) &&
          err.message.endsWith('got "zz"'),
        `troupe ${name} --${option} zz`,
      );
      checked++;
    }
  }
  assert.ok(checked >= 30, `only ${checked} options checked`);
});

test("troupe help with a name that is no command, and troupe alone, are usage errors that say so", async () => {
  const [unknown, none] = await Promise.all([runTroupe(["help", "nosuch"]), runTroupe([])]);
  assert.is(unknown.code, 2, unknown.stdout);
  assert.match(unknown.stderr, 'troupe: unknown command "nosuch"; the commands are up, run,');
  assert.is(unknown.stdout, "", "no help printed as if it were asked for");
  assert.is(none.code, 2);
  assert.match(none.stdout, "Commands:");
  assert.is(
    none.stderr.replace(/^npm warn.*\n/gm, ""),
    "troupe: Name a command (listed above): troupe <command> [options]\n",
  );
});

test("troupe help <command> prints that command's help", async () => {
  const [viaHelp, viaFlag] = await Promise.all([
    runTroupe(["help", "token"]),
    runTroupe(["token", "--help"]),
  ]);
  assert.is(viaHelp.code, 0, viaHelp.stderr);
  assert.match(viaHelp.stdout, /^troupe token — /);
  assert.is(viaHelp.stdout, viaFlag.stdout);
});

test.run();
