/**
 * `troupe bench <name>`: runs `bench/<name>.ts` and prints its rows as a table, or with `--json` as
 * one JSON array. Options after the name belong to the benchmark. The published package leaves
 * `bench/` out (its baselines are devDependencies, its drivers the repository's), so the command
 * loads it only when it runs, and an installed troupe says where the benchmarks run instead.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Benchmark } from "../../bench/mod.ts";
import { type Command, helpText, UsageError } from "../args.ts";

/** Where the benchmarks' module is (`.js` in a built package: the build rewrites the URL). */
const BENCH_MODULE = new URL("../../bench/mod.ts", import.meta.url);

/** What `troupe bench` says where `bench/` is not (an installed package). */
export const BENCH_ABSENT = "the benchmarks are not part of the installed package; run them from " +
  "a checkout of troupe's repository: npm install, then node cli/troupe.mjs bench <name> " +
  "(docs/performance.md)";

/** The benchmarks' module, or undefined where it is not (an installed package). */
async function benchModule(): Promise<typeof import("../../bench/mod.ts") | undefined> {
  if (!existsSync(fileURLToPath(BENCH_MODULE))) return undefined;
  return await import("../../bench/mod.ts");
}

type BenchModule = NonNullable<Awaited<ReturnType<typeof benchModule>>>;

function names(bench: BenchModule): string[] {
  return Object.keys(bench.BENCHMARKS).sort();
}

async function load(bench: BenchModule, name: string): Promise<Benchmark> {
  const loader = Object.hasOwn(bench.BENCHMARKS, name) ? bench.BENCHMARKS[name] : undefined;
  if (!loader) {
    throw new UsageError(`Unknown benchmark "${name}"; there are: ${names(bench).join(", ")}`);
  }
  const mod = await loader();
  if (!mod.benchmark) throw new Error(`bench/${name}.ts exports no benchmark`);
  return mod.benchmark;
}

export const command: Command = {
  name: "bench",
  summary: "benchmarks: troupe against its baseline, measured in the same run",
  usage: "<name> [--json] [benchmark options]   |   troupe bench --list",
  options: {
    json: { type: "boolean", help: "Print one JSON array of rows instead of a table" },
    list: { type: "boolean", help: "List the benchmarks" },
  },
  details: `Examples:
  troupe bench --list                  the benchmarks, one a line
  troupe bench detect --seeds 1-8      detection scores on the labelled feeds (no timing)
  troupe bench detect --explain        the same, with the anomaly view behind each event and label
  troupe bench anomaly --json
Each benchmark's own options, and what each is when not given: troupe bench <name> --help.
Rows: { bench, metric, unit, troupe, baseline, ratio, better } (ratio = troupe / baseline).
Timed benchmarks measure this machine: run them on a quiet one.`,
  run() {
    throw new Error("unreachable: bench parses its own arguments");
  },
  runRaw: runBench,
};

/** Bench passes unknown options through to the benchmark, so it parses argv itself. */
async function runBench(argv: string[]): Promise<number> {
  const json = argv.includes("--json");
  const rest = argv.filter((a) => a !== "--json");
  if (rest[0] === "--help" || rest[0] === "-h") {
    console.log(helpText(command));
    return 0;
  }
  const benches = await benchModule();
  if (!benches) {
    console.error(`troupe bench: ${BENCH_ABSENT}`);
    return 1;
  }
  const { BenchDataError, BenchHaltError, BenchOptionError, formatTable, optionsUsage } = benches;
  if (rest.includes("--list") || rest.length === 0) {
    for (const name of names(benches)) {
      const b = await load(benches, name);
      console.log(`${name.padEnd(12)} ${b.summary}`);
    }
    // With no name it is a usage error that says so (it exited 2 with nothing on stderr).
    if (rest.length === 0) {
      throw new UsageError("Name a benchmark: troupe bench <name> [options] (listed above)");
    }
    return 0;
  }
  const [name, ...args] = rest;
  const bench = await load(benches, name!);
  if (args.includes("--help") || args.includes("-h")) {
    console.log(
      `troupe bench ${bench.name} — ${bench.summary}\n\n` +
        `Usage: troupe bench ${bench.name} [options] [--json]\n\n` +
        `Options:\n${optionsUsage(bench.options)}\n  --json  one JSON array of rows\n\n` +
        `Example: troupe bench ${bench.name} --json`,
    );
    return 0;
  }
  // --explain is detect's: a benchmark without it says whose it is, not only that it is unknown.
  if (args.includes("--explain") && !Object.hasOwn(bench.options, "explain")) {
    throw new UsageError(
      `Option --explain is not troupe bench ${bench.name}'s: it lays the anomaly detector's ` +
        `events and labels to its views, in troupe bench detect --explain`,
      { helpFor: `bench ${bench.name}` },
    );
  }
  // A benchmark that throws at the call (not through its promise) is treated the same way.
  const run = () => bench.run(args, { log: (m) => console.error(m), json });
  let rows;
  try {
    rows = await Promise.resolve().then(run);
  } catch (err) {
    // The options are the benchmark's: point at its help, not at troupe bench's.
    if (err instanceof BenchOptionError || err instanceof UsageError) {
      throw new UsageError(err.message, { cause: err, helpFor: `bench ${bench.name}` });
    }
    if (!(err instanceof BenchDataError) && !(err instanceof BenchHaltError)) throw err;
    console.error(`troupe bench ${bench.name}: ${err.message}`);
    return err instanceof BenchHaltError ? err.exitCode : 1;
  }
  console.log(json ? JSON.stringify(rows) : formatTable(rows));
  return 0;
}
