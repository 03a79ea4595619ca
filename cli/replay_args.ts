/**
 * `troupe replay`'s arguments read and checked before the recording is opened (a bad one is a
 * UsageError naming it and its value), and the replay's options they give.
 */
import type { NatsBus } from "../actors/runtime/mod.ts";
import {
  OutputDiff,
  readReplaySettings,
  type ReplayOptions,
  type ReplayProgress,
  THREADS_MAX,
} from "../sim/mod.ts";
import { ConfigError } from "../protocol/mod.ts";
import { kindsOption } from "./kinds_option.ts";
import { type HostKinds, kindsModuleUrl } from "../actors/cluster/kinds/mod.ts";
import { flag, type ParsedArgs, parseDuration, str, text, UsageError } from "./args.ts";

/** What `troupe replay` is asked to do, read and checked before the recording is opened. */
export interface ReplayArgs {
  path: string;
  speed: number;
  json: boolean;
  verify: boolean;
  acceptUnclosed: boolean;
  url: string | undefined;
  inspect: { kind: string; key: string } | undefined;
  threads: number | undefined;
  actors: string[] | undefined;
  configPath: string | undefined;
  config: Record<string, unknown> | undefined;
  kinds: HostKinds;
}

/** The arguments, each checked: a bad one is a UsageError naming it and its value. */
export async function replayArgs(args: ParsedArgs): Promise<ReplayArgs> {
  const [path, ...extra] = args.positionals;
  if (path === undefined) throw new UsageError("A recording FILE is required");
  if (extra.length) throw new UsageError(`Unexpected argument "${extra[0]}"`);
  const speed = parseSpeed(text(args, "speed"));
  const json = flag(args, "json");
  const verify = flag(args, "verify");
  const acceptUnclosed = flag(args, "accept-unclosed");
  if (acceptUnclosed && !verify) throw new UsageError("Option --accept-unclosed needs --verify");
  const url = str(args, "nats");
  const inspect = parseInspect(str(args, "inspect"), url);
  const threads = parseThreads(str(args, "threads"));
  if (threads !== undefined && threads > 1 && url !== undefined) {
    throw new UsageError("Option --threads runs the actors in this process: drop --nats");
  }
  const actors = str(args, "actors")?.split(",").map((s) => s.trim()).filter(Boolean);
  const kinds = await kindsOption(str(args, "kinds"));
  const configPath = str(args, "config");
  const config = configPath === undefined ? undefined : readActorConfig(configPath);
  return {
    path,
    speed,
    json,
    verify,
    acceptUnclosed,
    url,
    inspect,
    threads,
    actors,
    configPath,
    config,
    kinds,
  };
}

/** `--inspect KIND/KEY`, which needs the in-process replay (no `--nats`). */
export function parseInspect(
  raw: string | undefined,
  url: string | undefined,
): { kind: string; key: string } | undefined {
  if (raw === undefined) return undefined;
  const m = raw.match(/^([A-Za-z0-9_-]{1,64})\/([A-Za-z0-9_-]{1,64})$/);
  if (!m) {
    throw new UsageError(`Option --inspect must be KIND/KEY (e.g. stats/SYM001), got "${raw}"`);
  }
  if (url !== undefined) {
    throw new UsageError("Option --inspect needs the in-process replay: drop --nats");
  }
  return { kind: m[1]!, key: m[2]! };
}

/**
 * An actor name the command line got wrong is a usage error, before the replay (once the kinds
 * the recording names are loaded).
 */
export function checkKinds(
  actors: string[] | undefined,
  inspect: { kind: string } | undefined,
  registry: Readonly<Record<string, unknown>>,
): void {
  for (
    const [option, kind] of [
      ...(actors ?? []).map((k) => ["actors", k] as const),
      ...(inspect ? [["inspect", inspect.kind] as const] : []),
    ]
  ) {
    if (!(kind in registry)) {
      throw new UsageError(
        `Option --${option} names unknown actor kind "${kind}"; the kinds are ${
          Object.keys(registry).join(", ")
        }`,
      );
    }
  }
}

/** `--from` and `--to` in µs since the epoch (undefined: the recording's start or end). */
export function replayRange(
  args: ParsedArgs,
  createdUs: number,
): { fromUs: number | undefined; toUs: number | undefined } {
  const fromUs = parseTime("from", str(args, "from"), createdUs);
  const toUs = parseTime("to", str(args, "to"), createdUs);
  if (fromUs !== undefined && toUs !== undefined && toUs < fromUs) {
    throw new UsageError(
      `Option --to (${str(args, "to")}) is before --from (${str(args, "from")})`,
    );
  }
  return { fromUs, toUs };
}

/** The replay's options from the arguments and the range, and the what-if it compares into. */
export function replayOptions(
  a: ReplayArgs,
  at: { fromUs: number | undefined; toUs: number | undefined; bus: NatsBus | undefined },
  onProgress: (p: ReplayProgress) => void,
): { options: ReplayOptions; whatIf: OutputDiff | undefined } {
  const { speed, verify, acceptUnclosed, inspect, actors, config, threads } = a;
  const options: ReplayOptions = { speed, verify, acceptUnclosed, onProgress };
  // --config with --verify: a what-if, compared per kind and key (sim/recording/output_diff.ts).
  const whatIf = verify && config !== undefined ? new OutputDiff() : undefined;
  if (whatIf) {
    options.onOutput = (subject, data) => whatIf.replayed(subject, data);
    options.onRecordedOutput = (subject, data) => whatIf.recorded(subject, data);
  }
  if (at.fromUs !== undefined) options.fromUs = at.fromUs;
  if (at.toUs !== undefined) options.toUs = at.toUs;
  if (at.bus) options.bus = at.bus;
  if (inspect) options.inspect = inspect;
  if (actors) options.actors = actors;
  if (config) options.config = config;
  if (threads !== undefined) options.threads = threads;
  if (a.kinds.modules.length > 0) {
    options.registry = a.kinds.registry;
    options.registryModule = kindsModuleUrl(a.kinds);
  }
  return { options, whatIf };
}

/** Seconds from `startUs` to `tUs`, to one decimal. */
export function secondsInto(tUs: number, startUs: number): string {
  return ((tUs - startUs) / 1e6).toFixed(1);
}

function parseThreads(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < 1 || n > THREADS_MAX) {
    throw new UsageError(
      `Option --threads must be an integer from 1 to ${THREADS_MAX}, got "${raw}"`,
    );
  }
  return n;
}

function parseSpeed(raw: string): number {
  if (raw === "max") return Infinity;
  const x = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(x) || x <= 0) {
    throw new UsageError(`Option --speed must be a number > 0 or max, got "${raw}"`);
  }
  return x;
}

/** Seconds into the recording, or an ISO time, as µs since the epoch. */
function parseTime(
  name: string,
  raw: string | undefined,
  startUs: number,
): number | undefined {
  if (raw === undefined) return undefined;
  const seconds = parseDuration(raw);
  if (seconds !== undefined) return startUs + Math.round(seconds * 1e6);
  if (/^\d{4}-\d{2}-\d{2}/.test(raw)) {
    const ms = Date.parse(raw);
    if (Number.isFinite(ms)) return Math.round(ms * 1000);
  }
  throw new UsageError(
    `Option --${name} must be seconds into the recording (90, 1.5, 30s, 5m) or an ISO time such ` +
      `as ` +
      `2024-01-01T12:00:00Z, got "${raw}"`,
  );
}

/** `--config FILE`'s settings by kind; a file that cannot be read as such is a usage error. */
function readActorConfig(path: string): Record<string, unknown> {
  try {
    return readReplaySettings(path);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`Option --config: ${err.message}`);
    throw err;
  }
}
