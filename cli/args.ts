/**
 * Argument parsing for every troupe command, on node:util's parseArgs (in Node and Deno, no
 * dependency): strict, so an unknown or malformed option is a usage error (exit 2) that names it,
 * never silently ignored. Each option's default and bounds are written once, in its spec: the help
 * line prints the default from there and the readers (`str`, `text`, `num`, `duration`) return it
 * when the option is absent, so the help cannot say one default while the code uses another. A
 * numeric option is checked by protocol's `checkNumber`, the same check the benchmarks' option
 * tables make (bench/_option_table.ts).
 */
import { parseArgs } from "node:util";
import {
  checkOptionText,
  defaultNote,
  type NumberBounds,
  type OptionValueSpec,
} from "../protocol/mod.ts";

/** The exit codes of every command. */
export const EXIT_OK = 0, EXIT_FAILURE = 1, EXIT_USAGE = 2;

/** A bad command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
  /** The command whose help to point at, when not the one run (`bench detect`, not `bench`). */
  readonly helpFor: string | undefined;
  constructor(message: string, options?: ErrorOptions & { helpFor?: string }) {
    super(message, options);
    this.helpFor = options?.helpFor;
  }
}

/**
 * An option of a command: what help says of it and how its value is read, each written once, in
 * the shape of a benchmark's option (protocol's OptionValueSpec: help, arg, default, defaultText,
 * number bounds, oneOf). A `default` of a `duration` is in seconds.
 */
export interface OptionSpec extends OptionValueSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  /** A duration in seconds within these bounds, read by `duration`. */
  duration?: DurationBounds;
}

/** The bounds of a duration option, in seconds. */
export interface DurationBounds {
  max?: number;
  positive?: boolean;
}

/** A command of the `troupe` CLI. */
export interface Command {
  name: string;
  summary: string;
  /** Usage line after `troupe <name>`, e.g. `[options] FILE`. */
  usage: string;
  options: Record<string, OptionSpec>;
  /** Longer help text after the options (examples, notes). */
  details?: string;
  /**
   * Whether it takes arguments besides options (replay FILE, ctl KIND, scan CRITERIA); without
   * this, any argument is a usage error naming it, never silently ignored.
   */
  takesArguments?: boolean;
  run(args: ParsedArgs): Promise<number>;
  /** For commands that pass options through (bench): takes the raw arguments instead. */
  runRaw?(argv: string[]): Promise<number>;
}

/** Parsed options and positionals, with the specs their values are read by. */
export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  /** The command's options: each one's default and bounds. */
  options: Record<string, OptionSpec>;
}

/**
 * Joins `--opt -5` into `--opt=-5`: parseArgs would take a negative number for an option of its
 * own, and the usage error would not name the value.
 */
export function joinNegativeValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (a.startsWith("--") && !a.includes("=") && next !== undefined && /^-\d|^-\.\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** Parses `argv` for `command`; throws UsageError naming what is wrong. */
export function parseCommandArgs(command: Command, argv: string[]): ParsedArgs {
  argv = joinNegativeValues(argv);
  const options: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean }
  > = { help: { type: "boolean", short: "h" } };
  for (const [name, spec] of Object.entries(command.options)) {
    const o: { type: "string" | "boolean"; short?: string; multiple?: boolean } = {
      type: spec.type,
    };
    if (spec.short) o.short = spec.short;
    if (spec.multiple) o.multiple = true;
    options[name] = o;
  }
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options,
      allowPositionals: true,
      strict: true,
    });
    if (!command.takesArguments && positionals.length > 0 && values.help !== true) {
      throw new UsageError(
        `Unexpected argument${positionals.length > 1 ? "s" : ""} "${positionals.join(" ")}": ` +
          `troupe ${command.name} takes options only (each starts with --)`,
      );
    }
    return { values: values as ParsedArgs["values"], positionals, options: command.options };
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError((err as Error).message.replace(/\. To specify a positional.*$/s, ""));
  }
}

/** The help text of a command. */
export function helpText(command: Command): string {
  const lines = [
    `troupe ${command.name} — ${command.summary}`,
    "",
    `Usage: troupe ${command.name} ${command.usage}`,
  ];
  const entries = Object.entries(command.options);
  if (entries.length) {
    lines.push("", "Options:");
    const heads = entries.map(([name, spec]) =>
      `  ${spec.short ? `-${spec.short}, ` : ""}--${name}${
        spec.type === "string" ? ` ${spec.arg ?? "VALUE"}` : ""
      }`
    );
    const helpHead = "  -h, --help";
    // The help line counts too: with only short options, it was longer than the column.
    const width = Math.max(helpHead.length, ...heads.map((h) => h.length)) + 2;
    entries.forEach(([, spec], i) => lines.push(heads[i]!.padEnd(width) + optionHelp(spec)));
    lines.push(helpHead.padEnd(width) + "Show this help");
  }
  if (command.details) lines.push("", command.details.trimEnd());
  return lines.join("\n");
}

/** An option's help line after its name: what it does, then its default from the spec. */
export function optionHelp(spec: OptionSpec): string {
  const note = defaultNote(spec);
  return note === undefined ? spec.help : `${spec.help} ${note}`;
}

/** Whether option `name` was given on the command line (not defaulted). */
export function given(args: ParsedArgs, name: string): boolean {
  return args.values[name] !== undefined;
}

/** Reads a string option: its text, else its spec's default, else undefined. */
export function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  if (typeof v === "string") {
    // A number's text is read, and checked, by num.
    const spec = specOf(args, name);
    return spec.number ? v : String(checkOptionText(name, v, spec, usageError));
  }
  const fallback = args.options[name]?.default;
  return fallback === undefined ? undefined : String(fallback);
}

/** Reads a string option that has a default in its spec: its text, else that default. */
export function text(args: ParsedArgs, name: string): string {
  return str(args, name) ?? noDefault(name);
}

/** Reads a boolean flag. */
export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

/**
 * Reads a numeric option within its spec's bounds (and `narrower`, where one is known only at run
 * time), else its spec's default; throws UsageError naming the option and the value.
 */
export function num(args: ParsedArgs, name: string, narrower?: NumberBounds): number {
  return optNum(args, name, narrower) ?? noDefault(name);
}

/** Reads a numeric option as `num` does; undefined when absent and without a default. */
export function optNum(
  args: ParsedArgs,
  name: string,
  narrower?: NumberBounds,
): number | undefined {
  const spec = specOf(args, name);
  const raw = args.values[name];
  if (typeof raw !== "string") return typeof spec.default === "number" ? spec.default : undefined;
  return checkOptionText(
    name,
    raw,
    { ...spec, number: { ...spec.number, ...narrower } },
    usageError,
  ) as number;
}

function specOf(args: ParsedArgs, name: string): OptionSpec {
  const spec = args.options[name];
  if (!spec) throw new Error(`Cannot read option --${name}: the command has no such option`);
  return spec;
}

function noDefault(name: string): never {
  throw new Error(`Cannot read option --${name}: it was not given and its spec has no default`);
}

const usageError = (message: string) => new UsageError(message);

const DURATION = /^\+?(\d+\.?\d*|\.\d+)(ms|s|m|h)?$/;
const UNIT_S: Record<string, number> = { ms: 1e-3, s: 1, m: 60, h: 3600 };

/** Seconds in `raw`: a number of seconds (`90`, `1.5`) or one with a unit (`500ms`, `30s`, `5m`,
 *  `1h`); undefined when it is neither. */
export function parseDuration(raw: string): number | undefined {
  const m = DURATION.exec(raw.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNIT_S[m[2] ?? "s"]!;
}

/**
 * Reads a duration option in seconds (see parseDuration) within its spec's bounds, else its spec's
 * default; throws UsageError naming the value.
 */
export function duration(args: ParsedArgs, name: string): number {
  const spec = specOf(args, name);
  const raw = args.values[name];
  if (typeof raw !== "string") {
    return typeof spec.default === "number" ? spec.default : noDefault(name);
  }
  const value = parseDuration(raw);
  const bad = (why: string) => new UsageError(`Option --${name} ${why}, got "${raw}"`);
  if (value === undefined) {
    throw bad("must be seconds, or a number with a unit: 500ms, 30s, 5m, 1h");
  }
  const bounds = spec.duration ?? {};
  if (bounds.positive && value <= 0) throw bad("must be > 0");
  if (bounds.max !== undefined && value > bounds.max) throw bad(`must be <= ${bounds.max} s`);
  return value;
}
