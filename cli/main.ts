/**
 * The `troupe` command: dispatches to one module per subcommand in cli/commands/, loaded on
 * demand so that `troupe --help` is quick. Exit codes: 0 ok, 1 failure, 2 usage.
 */
import process from "node:process";
import { setTimeout as unrefTimeoutBase } from "node:timers";
import { TROUPE_VERSION } from "../protocol/mod.ts";
import {
  type Command,
  EXIT_FAILURE,
  EXIT_USAGE,
  helpText,
  parseCommandArgs,
  UsageError,
} from "./args.ts";

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ command: Command }> }> = {
  up: {
    summary: "everything on one machine: NATS, a host, a synthetic feed, the dashboard",
    load: () => import("./commands/up.ts"),
  },
  run: {
    summary: "an actor host, from a JSON config file",
    load: () => import("./commands/run.ts"),
  },
  inject: {
    summary: "publish a synthetic or file feed to NATS at a target rate",
    load: () => import("./commands/inject.ts"),
  },
  record: {
    summary: "capture a live session into a recording file",
    load: () => import("./commands/record.ts"),
  },
  replay: {
    summary: "replay a recording through fresh actors; --verify checks the outputs",
    load: () => import("./commands/replay.ts"),
  },
  ctl: {
    summary: "change an actor kind's configuration at run time",
    load: () => import("./commands/ctl.ts"),
  },
  scan: {
    summary: "start a scan on a host and stream its results",
    load: () => import("./commands/scan.ts"),
  },
  bench: {
    summary: "benchmarks: troupe against its baseline, measured in the same run",
    load: () => import("./commands/bench.ts"),
  },
  sim: {
    summary: "deterministic simulation under faults",
    load: () => import("./commands/sim.ts"),
  },
  collab: {
    summary: "the collaboration server (y-websocket protocol, tokens, journal, NATS fan-out)",
    load: () => import("./commands/collab.ts"),
  },
  token: {
    summary: "mint a signed session token for the collaboration server",
    load: () => import("./commands/token.ts"),
  },
  watch: {
    summary: "what the actors find, live: one line per finding, or NDJSON",
    load: () => import("./commands/watch.ts"),
  },
  incidents: {
    summary: "the incidents: findings grouped, pending, firing or resolved",
    load: () => import("./commands/incidents.ts"),
  },
  status: {
    summary: "the cluster's hosts and who owns which partition (partition leases)",
    load: () => import("./commands/status.ts"),
  },
};

function unrefTimeout(fn: () => void, ms: number): void {
  unrefTimeoutBase(fn, ms).unref();
}

/** Registers a command module (used as more commands land). */
export function registerCommand(
  name: string,
  summary: string,
  load: () => Promise<{ command: Command }>,
): void {
  COMMANDS[name] = { summary, load };
}

/** The commands' names, in the order `troupe --help` lists them. */
export function commandNames(): string[] {
  return Object.keys(COMMANDS);
}

/** Loads a command's module (its options and help). */
export async function loadCommand(name: string): Promise<Command> {
  const entry = COMMANDS[name];
  if (!entry) throw new Error(`No command "${name}"`);
  return (await entry.load()).command;
}

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length)) + 2;
  return [
    "troupe — an event-sourced actor cluster for live numeric feeds",
    "",
    "Usage: troupe <command> [options]",
    "       troupe <command> --help     its options, what each is when not given, and examples",
    "                                   (or troupe help <command>)",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`),
    "",
    "Start with: troupe up   (everything on one machine; then, in another terminal from the same",
    "            directory: troupe watch, troupe scan 'rsi(14) < 30' --bar 1s, troupe ctl ...)",
    "",
    "Exit codes: 0 ok, 1 failure, 2 usage error.",
  ].join("\n");
}

/** The line after a usage error: how to get the command's help (not the whole help page). */
export function usageHint(name: string): string {
  return `Run troupe ${name} --help for its options.`;
}

/** Runs the CLI with `argv` (without the program name) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  // `troupe help up` is `troupe up --help`.
  // `troupe help NAME`: that command's help; a name that is no command is refused as one.
  if (argv[0] === "help" && argv[1] !== undefined && !argv[1].startsWith("-")) {
    argv = argv[1] in COMMANDS ? [argv[1], "--help"] : [argv[1]];
  }
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(mainHelp());
    if (name !== undefined) return 0;
    console.error("troupe: Name a command (listed above): troupe <command> [options]");
    return EXIT_USAGE;
  }
  if (name === "--version" || name === "-v") {
    console.log(`troupe ${TROUPE_VERSION}`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    console.error(
      `troupe: unknown command "${name}"; the commands are ${Object.keys(COMMANDS).join(", ")}\n` +
        "Run troupe --help for what each does.",
    );
    return EXIT_USAGE;
  }
  const { command } = await entry.load();
  try {
    if (command.runRaw) return await command.runRaw(rest);
    const args = parseCommandArgs(command, rest);
    if (args.values.help) {
      console.log(helpText(command));
      return 0;
    }
    return await command.run(args);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`troupe ${name}: ${err.message}\n${usageHint(err.helpFor ?? name)}`);
      return EXIT_USAGE;
    }
    // A bug: its stack, or (an error some library left without one) its name and message.
    const e = err as Error;
    console.error(
      `troupe ${name}: ${e.stack || `${e.name ?? "Error"}: ${e.message || String(err)}`}`,
    );
    return EXIT_FAILURE;
  }
}

/**
 * Ends the process with `code` once a command has returned: at once when nothing is left running,
 * else within a second (a connection or file a failure left open must not keep a supervisor
 * waiting on a process that has finished).
 */
export function finish(code: number): void {
  process.exitCode = code;
  unrefTimeout(() => process.exit(code), 1000);
}

if ((import.meta as { main?: boolean }).main) {
  finish(await main(process.argv.slice(2)));
}
