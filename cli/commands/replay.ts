/**
 * `troupe replay FILE`: feeds a recording's inputs through fresh actors (in this process, or into
 * a live cluster with `--nats`), at the recorded pace times `--speed` or as fast as they go, over
 * the range `--from`..`--to`. `--verify` compares every output with the recorded one and names
 * the first that differs (exit 1); `--inspect kind/key` prints that actor's state at the end.
 */
import { type NatsAuth, NatsBus, redactNatsUrl } from "../../actors/runtime/mod.ts";
import { NATS_AUTH_OPTIONS, NATS_AUTH_USAGE, natsAuthOf } from "../nats_auth_options.ts";
import { ConfigError } from "../../protocol/mod.ts";
import {
  type OutputDiffReport,
  RecordingFormatError,
  type RecordingHeader,
  RecordingReader,
  replay,
  ReplayError,
  replayReport,
  type ReplayResult,
  whatIfReport,
} from "../../sim/mod.ts";
import {
  replaySessions,
  sessionReplayJson,
  sessionReplayReport,
  type SessionReplayResult,
} from "../../collab/mod.ts";
import { recordedKinds } from "../kinds_option.ts";
import { type Command, EXIT_FAILURE, EXIT_USAGE, str } from "../args.ts";
import {
  checkKinds,
  type ReplayArgs,
  replayArgs,
  replayOptions,
  replayRange,
  secondsInto,
} from "../replay_args.ts";
import { ReplayBar } from "../replay_bar.ts";
import { NATS_URL_DEFAULT } from "../../actors/cluster/data_dir/mod.ts";

export const command: Command = {
  name: "replay",
  summary: "replay a recording through fresh actors; --verify checks the outputs",
  takesArguments: true,
  usage:
    "FILE [--speed 1|10|max] [--from T] [--to T] [--verify [--accept-unclosed]] [--nats URL] " +
    "[--inspect KIND/KEY] " +
    "[--actors LIST] [--kinds MODULES] [--config FILE] [--threads N] [--json]" + NATS_AUTH_USAGE,
  options: {
    speed: {
      type: "string",
      arg: "X",
      help: "A multiple of the recorded pace (1, 10, 0.5, ...) or max",
      default: "max",
    },
    from: {
      type: "string",
      arg: "T",
      help: "Start at T: seconds into the recording (90, 1.5) or an ISO time",
      defaultText: "its start",
    },
    to: {
      type: "string",
      arg: "T",
      help: "Stop after T: seconds into the recording or an ISO time",
      defaultText: "its end",
    },
    verify: {
      type: "boolean",
      help: "Check that every output equals the recorded one; exit 1 naming the first that " +
        "differs, or when the recording was not closed by its writer (cut)",
    },
    "accept-unclosed": {
      type: "boolean",
      help: "With --verify: verify a recording whose writer died (no trailer) on what it holds, " +
        "said in the output, instead of failing",
    },
    nats: {
      type: "string",
      arg: "URL",
      help: `Replay into a live cluster on NATS (e.g. ${NATS_URL_DEFAULT})`,
      defaultText: "fresh actors in this process",
    },
    ...NATS_AUTH_OPTIONS,
    inspect: {
      type: "string",
      arg: "KIND/KEY",
      help: "Print this actor's state at the end of the range, e.g. stats/SYM001",
      defaultText: "none",
    },
    actors: {
      type: "string",
      arg: "LIST",
      help: "Actor kinds to run, comma-separated",
      defaultText: "the recording's",
    },
    kinds: {
      type: "string",
      arg: "MODULES",
      help: "Modules of your own kinds (paths or packages, comma-separated), beside troupe's own",
      defaultText: "troupe's own kinds only",
    },
    config: {
      type: "string",
      arg: "FILE",
      help: 'A JSON file of actor settings over the recording\'s: { "stats": { ... } }; with ' +
        "--verify, a what-if: the incidents that appeared and disappeared",
      defaultText: "the recording's",
    },
    threads: {
      type: "string",
      arg: "N",
      help: "Run the actors on N worker threads; 1: in this thread",
      defaultText: "one per core, up to 4, at max speed for recordings of 4 MiB or more",
    },
    json: { type: "boolean", help: "Print the result as one JSON object on stdout" },
  },
  details: `Examples:
  troupe replay demo.rec --verify
  troupe replay demo.rec --from 20 --to 30 --inspect anomaly/SYM001
  troupe replay demo.rec --config what-if.json --verify
Inputs before --from are applied first, unpaced, so the actors reach their state at --from.
With --threads, each thread runs its own host for a share of the actor instances (by key); this
thread reads the recording, routes the inputs and merges the outputs back into the one order a
single host gives, so outputs and --verify are the same with any number of threads.
A recording made with troupe up --record replays exactly; one made with troupe record of a cluster
already running lacks the inputs before it started, so its first outputs may differ.
--config FILE --verify is a what-if: instead of output by output, it compares per kind and key,
and lists the events (incidents) that appeared and disappeared with the new settings (exit 0).
Exit codes: 0 ok, 1 outputs differ or the replay failed, 2 usage.`,
  async run(args) {
    const a = await replayArgs(args);
    let reader: RecordingReader;
    try {
      reader = await RecordingReader.open(a.path);
    } catch (err) {
      console.error(`troupe replay: ${describeOpenError(a.path, err)}`);
      return EXIT_FAILURE;
    }
    const header = reader.header;
    // A recording made with the user's kinds names their modules: they load again unless named.
    if (a.kinds.modules.length === 0 && header.kinds !== null) {
      a.kinds = await recordedKinds(header.kinds, a.path);
    }
    checkKinds(a.actors, a.inspect, a.kinds.registry);
    const range = replayRange(args, header.created_us);
    if (!a.json) console.error(headerLine(a.path, header));
    const bus = a.url === undefined ? undefined : await connectBus(a.url, natsAuthOf(args));
    if (bus === null) return EXIT_FAILURE;
    const bar = new ReplayBar();
    let lastRecordUs = header.created_us;
    const { options, whatIf } = replayOptions(a, { ...range, bus }, (p) => {
      lastRecordUs = p.tUs;
      bar.update(p);
    });
    const sessions = await rebuildSessions(a, bus);
    if (sessions === undefined) return EXIT_FAILURE;
    let result: ReplayResult;
    try {
      result = await replay(a.path, options);
    } catch (err) {
      bar.done();
      return replayFailed(err, a, sessions);
    } finally {
      await bus?.close().catch(() => {});
    }
    bar.done();
    if (range.fromUs !== undefined && result.inputs === 0) {
      console.error(
        `troupe replay: --from ${str(args, "from")} is past the end of ${a.path}: its last ` +
          `record is at ${secondsInto(lastRecordUs, header.created_us)} s (${
            new Date(lastRecordUs / 1000).toISOString()
          }); nothing was replayed in the range`,
      );
      return EXIT_USAGE;
    }
    const diff = whatIf?.finish(result.kinds);
    return printResult(result, { diff, sessions, a }) ? 0 : EXIT_FAILURE;
  },
};

/** What the recording says of itself: who recorded it, on which bus, when, in which format. */
function headerLine(path: string, header: RecordingHeader): string {
  return `troupe replay: ${path}: recorded by ${header.source} on ${header.bus} at ${
    new Date(header.created_us / 1000).toISOString()
  } (format ${header.format}, troupe ${header.troupe}${
    header.seed === null ? "" : `, seed ${header.seed}`
  })`;
}

/** A connection to the cluster at `url`, or null (said on stderr) when there is none. */
async function connectBus(url: string, auth: NatsAuth): Promise<NatsBus | null> {
  try {
    return await NatsBus.connect(url, { name: "troupe-replay", auth });
  } catch (err) {
    console.error(
      `troupe replay: cannot connect to NATS at ${redactNatsUrl(url)}: ${
        (err as Error).message
      }. ` +
        `Is the cluster running?`,
    );
    return null;
  }
}

/**
 * The shared sessions (troupe.collab.<session>), each document rebuilt and, with --verify,
 * verified; undefined (said on stderr, the bus closed) when the file cannot be read on.
 */
async function rebuildSessions(
  a: ReplayArgs,
  bus: NatsBus | undefined,
): Promise<SessionReplayResult[] | undefined> {
  try {
    return await replaySessions(a.path, { verify: a.verify });
  } catch (err) {
    // Not a damaged recording (a cut is read up to, and reported by the actors' replay): a
    // file that cannot be read on, said rather than the sessions silently left out.
    await bus?.close().catch(() => {});
    console.error(
      `troupe replay: ${a.path}: rebuilding the shared sessions failed: ${(err as Error).message}`,
    );
    return undefined;
  }
}

/** The exit code of an actors' replay that threw, said on stderr. */
function replayFailed(err: unknown, a: ReplayArgs, sessions: SessionReplayResult[]): number {
  if (err instanceof ConfigError) {
    console.error(`troupe replay: ${a.configPath ? `${a.configPath}: ` : ""}${err.message}`);
    return EXIT_USAGE;
  }
  if (err instanceof ReplayError && sessions.length > 0) {
    // A recording of sessions alone: nothing for actors, the sessions still replay.
    console.error(`troupe replay: actors: ${err.message}`);
    const ok = sessions.every((s) => s.verified === undefined || s.verified.ok);
    if (a.json) console.log(JSON.stringify({ ok, sessions: sessionReplayJson(sessions) }));
    else for (const line of sessionReplayReport(sessions)) console.log(line);
    return ok ? 0 : EXIT_FAILURE;
  }
  if (err instanceof ReplayError || err instanceof RecordingFormatError) {
    console.error(`troupe replay: ${err.message}`);
    return EXIT_FAILURE;
  }
  throw err;
}

/** Prints the result (one JSON object, or the report's lines); returns whether it is ok. */
function printResult(
  result: ReplayResult,
  { diff, sessions, a }: {
    diff: OutputDiffReport | undefined;
    sessions: SessionReplayResult[];
    a: ReplayArgs;
  },
): boolean {
  const sessionsOk = sessions.every((s) => s.verified === undefined || s.verified.ok);
  const ok = (diff !== undefined || result.verify === undefined || result.verify.ok) &&
    sessionsOk;
  // A pass that compared nothing is no evidence: the recording was made where no host ran.
  if (diff === undefined && result.verify?.ok && result.verify.equal === 0) {
    console.error(
      `troupe replay: WARNING: nothing was verified: ${result.path} holds no outputs to compare ` +
        `(${result.inputs.toLocaleString("en-US")} inputs replayed); was a host running, on ` +
        "the NATS server it was recorded from, while it recorded?",
    );
  }
  if (a.json) {
    const { hostLog, ...rest } = result;
    const out = { ok, ...rest, sessions: sessionReplayJson(sessions), host_log: hostLog };
    if (diff) out.verify = undefined;
    console.log(JSON.stringify(diff ? { ...out, what_if: diff } : out));
  } else {
    const lines = replayReport(diff ? { ...result, verify: undefined } : result, a.speed);
    for (const line of lines) console.log(line);
    if (diff) { for (const line of whatIfReport(diff)) console.log(line); }
    if (result.inspect) console.log(JSON.stringify(result.inspect, null, 2));
    for (const line of sessionReplayReport(sessions)) console.log(line);
  }
  return ok;
}

function describeOpenError(path: string, err: unknown): string {
  if (err instanceof RecordingFormatError) return err.message;
  const code = (err as { code?: string }).code;
  if (code === "ENOENT") return `${path}: no such file`;
  return `cannot open ${path}: ${(err as Error).message}`;
}
