/**
 * `troupe replay FILE`: feeds a recording's inputs through fresh actors (in this process, or into
 * a live cluster with `--nats`), at the recorded pace times `--speed` or as fast as they go, over
 * the range `--from`..`--to`. `--verify` compares every output with the recorded one and names
 * the first that differs (exit 1); `--inspect kind/key` prints that actor's state at the end.
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import { NatsBus } from "../../actors/runtime/mod.ts";
import { ConfigError } from "../../protocol/mod.ts";
import {
  type Incident,
  OutputDiff,
  type OutputDiffReport,
  RecordingFormatError,
  RecordingReader,
  replay,
  ReplayError,
  type ReplayOptions,
  type ReplayProgress,
  type ReplayResult,
  THREADS_MAX,
} from "../../sim/mod.ts";
import { replaySessions, type SessionReplayResult } from "../../collab/mod.ts";
import {
  type Command,
  EXIT_FAILURE,
  EXIT_USAGE,
  flag,
  parseDuration,
  str,
  UsageError,
} from "../args.ts";
import { joinNegativeValues, NATS_URL_DEFAULT, runParsed } from "./inject.ts";

export const command: Command = {
  name: "replay",
  summary: "replay a recording through fresh actors; --verify checks the outputs",
  takesArguments: true,
  usage:
    "FILE [--speed 1|10|max] [--from T] [--to T] [--verify [--accept-unclosed]] [--nats URL] " +
    "[--inspect KIND/KEY] " +
    "[--actors LIST] [--config FILE] [--threads N] [--json]",
  options: {
    speed: {
      type: "string",
      arg: "X",
      help: "A multiple of the recorded pace (1, 10, 0.5, ...) or max (default max)",
    },
    from: {
      type: "string",
      arg: "T",
      help: "Start at T: seconds into the recording (90, 1.5) or an ISO time (default: its start)",
    },
    to: {
      type: "string",
      arg: "T",
      help: "Stop after T: seconds into the recording or an ISO time (default: its end)",
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
      help: `Replay into a live cluster on NATS (e.g. ${NATS_URL_DEFAULT}) (default: fresh ` +
        "actors in this process)",
    },
    inspect: {
      type: "string",
      arg: "KIND/KEY",
      help: "Print this actor's state at the end of the range, e.g. stats/SYM001 (default: none)",
    },
    actors: {
      type: "string",
      arg: "LIST",
      help: "Actor kinds to run, comma-separated (default: the recording's)",
    },
    config: {
      type: "string",
      arg: "FILE",
      help: 'A JSON file of actor settings over the recording\'s: { "stats": { ... } } (default: ' +
        "the recording's); with --verify, a what-if: the incidents that appeared and disappeared",
    },
    threads: {
      type: "string",
      arg: "N",
      help:
        "Run the actors on N worker threads; 1: in this thread (default: one per core, up to 4, at max speed for recordings of 4 MiB or more)",
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
  runRaw: (argv) => runParsed(command, joinNegativeValues(argv)),
  async run(args) {
    const [path, ...extra] = args.positionals;
    if (path === undefined) throw new UsageError("A recording FILE is required");
    if (extra.length) throw new UsageError(`Unexpected argument "${extra[0]}"`);
    const speed = parseSpeed(str(args, "speed") ?? "max");
    const json = flag(args, "json");
    const verify = flag(args, "verify");
    const acceptUnclosed = flag(args, "accept-unclosed");
    if (acceptUnclosed && !verify) throw new UsageError("Option --accept-unclosed needs --verify");
    const url = str(args, "nats");
    const inspectArg = str(args, "inspect");
    let inspect: { kind: string; key: string } | undefined;
    if (inspectArg !== undefined) {
      const m = inspectArg.match(/^([A-Za-z0-9_-]{1,64})\/([A-Za-z0-9_-]{1,64})$/);
      if (!m) {
        throw new UsageError(
          `Option --inspect must be KIND/KEY (e.g. stats/SYM001), got "${inspectArg}"`,
        );
      }
      inspect = { kind: m[1]!, key: m[2]! };
      if (url !== undefined) {
        throw new UsageError("Option --inspect needs the in-process replay: drop --nats");
      }
    }
    const threads = parseThreads(str(args, "threads"));
    if (threads !== undefined && threads > 1 && url !== undefined) {
      throw new UsageError("Option --threads runs the actors in this process: drop --nats");
    }
    const actorsArg = str(args, "actors");
    const actors = actorsArg?.split(",").map((s) => s.trim()).filter(Boolean);
    // An actor name the command line got wrong is a usage error, before the file is read.
    for (
      const [option, kind] of [
        ...(actors ?? []).map((k) => ["actors", k] as const),
        ...(inspect ? [["inspect", inspect.kind] as const] : []),
      ]
    ) {
      if (!(kind in ACTOR_KINDS)) {
        throw new UsageError(
          `Option --${option} names unknown actor kind "${kind}"; the kinds are ${
            Object.keys(ACTOR_KINDS).join(", ")
          }`,
        );
      }
    }
    const configPath = str(args, "config");
    const config = configPath === undefined ? undefined : readActorConfig(configPath);

    let reader: RecordingReader;
    try {
      reader = await RecordingReader.open(path);
    } catch (err) {
      console.error(`troupe replay: ${describeOpenError(path, err)}`);
      return EXIT_FAILURE;
    }
    const header = reader.header;
    const fromUs = parseTime("from", str(args, "from"), header.created_us);
    const toUs = parseTime("to", str(args, "to"), header.created_us);
    if (fromUs !== undefined && toUs !== undefined && toUs < fromUs) {
      throw new UsageError(
        `Option --to (${str(args, "to")}) is before --from (${str(args, "from")})`,
      );
    }
    if (!json) {
      console.error(
        `troupe replay: ${path}: recorded by ${header.source} on ${header.bus} at ${
          new Date(header.created_us / 1000).toISOString()
        } (format ${header.format}, troupe ${header.troupe}${
          header.seed === null ? "" : `, seed ${header.seed}`
        })`,
      );
    }

    let bus: NatsBus | undefined;
    if (url !== undefined) {
      try {
        bus = await NatsBus.connect(url, { name: "troupe-replay" });
      } catch (err) {
        console.error(
          `troupe replay: cannot connect to NATS at ${url}: ${(err as Error).message}. ` +
            `Is the cluster running?`,
        );
        return EXIT_FAILURE;
      }
    }
    const bar = new ReplayBar();
    let lastRecordUs = header.created_us;
    const options: ReplayOptions = {
      speed,
      verify,
      acceptUnclosed,
      onProgress: (p) => {
        lastRecordUs = p.tUs;
        bar.update(p);
      },
    };
    // --config with --verify: a what-if, compared per kind and key (sim/recording/output_diff.ts).
    const whatIf = verify && config !== undefined ? new OutputDiff() : undefined;
    if (whatIf) {
      options.onOutput = (subject, data) => whatIf.replayed(subject, data);
      options.onRecordedOutput = (subject, data) => whatIf.recorded(subject, data);
    }
    if (fromUs !== undefined) options.fromUs = fromUs;
    if (toUs !== undefined) options.toUs = toUs;
    if (bus) options.bus = bus;
    if (inspect) options.inspect = inspect;
    if (actors) options.actors = actors;
    if (config) options.config = config;
    if (threads !== undefined) options.threads = threads;
    // Shared sessions (troupe.collab.<session>): each document rebuilt, and verified.
    let sessions: SessionReplayResult[];
    try {
      sessions = await replaySessions(path, { verify });
    } catch (err) {
      // Not a damaged recording (a cut is read up to, and reported by the actors' replay): a
      // file that cannot be read on, said rather than the sessions silently left out.
      await bus?.close().catch(() => {});
      console.error(
        `troupe replay: ${path}: rebuilding the shared sessions failed: ${(err as Error).message}`,
      );
      return EXIT_FAILURE;
    }
    let result: ReplayResult;
    try {
      result = await replay(path, options);
    } catch (err) {
      bar.done();
      if (err instanceof ConfigError) {
        console.error(`troupe replay: ${configPath ? `${configPath}: ` : ""}${err.message}`);
        return EXIT_USAGE;
      }
      if (err instanceof ReplayError && sessions.length > 0) {
        // A recording of sessions alone: nothing for actors, the sessions still replay.
        console.error(`troupe replay: actors: ${err.message}`);
        return printSessions(sessions, json) ? 0 : EXIT_FAILURE;
      }
      if (err instanceof ReplayError || err instanceof RecordingFormatError) {
        console.error(`troupe replay: ${err.message}`);
        return EXIT_FAILURE;
      }
      throw err;
    } finally {
      await bus?.close().catch(() => {});
    }
    bar.done();
    if (fromUs !== undefined && result.inputs === 0) {
      console.error(
        `troupe replay: --from ${str(args, "from")} is past the end of ${path}: its last record ` +
          `is at ${secondsInto(lastRecordUs, header.created_us)} s (${
            new Date(lastRecordUs / 1000).toISOString()
          }); nothing was replayed in the range`,
      );
      return EXIT_USAGE;
    }
    const diff = whatIf?.finish(result.kinds);
    const sessionsOk = sessions.every((s) => s.verified === undefined || s.verified.ok);
    const ok = (diff !== undefined || result.verify === undefined || result.verify.ok) &&
      sessionsOk;
    if (json) {
      const { hostLog, ...rest } = result;
      const out = { ok, ...rest, sessions: sessionsJson(sessions), host_log: hostLog };
      if (diff) out.verify = undefined;
      console.log(JSON.stringify(diff ? { ...out, what_if: diff } : out));
    } else {
      const lines = report(diff ? { ...result, verify: undefined } : result, speed);
      for (const line of lines) console.log(line);
      if (diff) { for (const line of whatIfReport(diff)) console.log(line); }
      if (result.inspect) console.log(JSON.stringify(result.inspect, null, 2));
      printSessions(sessions, false);
    }
    return ok ? 0 : EXIT_FAILURE;
  },
};

/** The lines of the human report. */
function sessionsJson(sessions: SessionReplayResult[]) {
  return sessions.map(({ state, ...s }) => ({ ...s, state_bytes: state.length }));
}

/** Prints each rebuilt session (a line each, or JSON); returns whether every one verified. */
function printSessions(sessions: SessionReplayResult[], json: boolean): boolean {
  const ok = sessions.every((s) => s.verified === undefined || s.verified.ok);
  if (json) console.log(JSON.stringify({ ok, sessions: sessionsJson(sessions) }));
  else {
    for (const s of sessions) {
      const v = s.verified;
      console.log(
        `session ${s.session}: ${s.updates} updates, ${s.checkpoints} checkpoints, ` +
          `${s.state.length} bytes rebuilt` +
          (v === undefined ? "" : v.ok ? "; verified" : `; MISMATCH: ${v.problems.join("; ")}`),
      );
    }
  }
  return ok;
}

function report(r: ReplayResult, speed: number): string[] {
  const lines: string[] = [];
  const n = (x: number) => x.toLocaleString("en-US");
  const pace = speed === Infinity ? "max speed" : `${speed}x`;
  const achieved = r.speedAchieved > 0 ? ` (${r.speedAchieved.toFixed(1)}x the recorded pace)` : "";
  lines.push(
    `troupe replay: ${r.kinds.join(", ")} on ${n(r.inputs)} inputs (${n(r.frames)} frames, ${
      n(r.ctl)
    } control; ${n(r.samples)} samples) in ${r.elapsedS.toFixed(2)} s at ${pace}${achieved}: ${
      n(r.rangeOutputs)
    } outputs` +
      (r.warmupInputs ? `; ${n(r.warmupInputs)} earlier inputs applied first, unpaced` : ""),
  );
  if (r.skippedKinds.length) {
    lines.push(
      `troupe replay: not replayed (unknown to this troupe): ${r.skippedKinds.join(", ")}`,
    );
  }
  if (r.cut) {
    lines.push(
      `troupe replay: the recording is cut at byte ${r.cut.offset} after ${
        n(r.cut.records)
      } complete records (${r.cut.reason}; ${r.cut.bytesLeft} bytes left): replayed those`,
    );
  }
  if (r.deadLetters.recorded || r.deadLetters.replayed) {
    lines.push(
      `troupe replay: dead letters: ${r.deadLetters.recorded} recorded, ${r.deadLetters.replayed} in the replay`,
    );
  }
  for (const line of r.hostLog) {
    if (!/^recovered \d+ actor instances/.test(line)) lines.push(`troupe replay: host: ${line}`);
  }
  if (r.whole === false && !r.verify) {
    lines.push(
      `troupe replay: the recording was not closed by its writer (no trailer): it holds ${
        n(r.records)
      } records in ${n(r.recordBytes)} bytes; it was cut, or its recorder died`,
    );
  }
  lines.push(...verifyLines(r.verify));
  return lines;
}

/** What `--verify` found, as the report's lines (none without `--verify`). */
function verifyLines(v: ReplayResult["verify"]): string[] {
  const lines: string[] = [];
  const n = (x: number) => x.toLocaleString("en-US");
  if (v?.unclosed) {
    const u = v.unclosed;
    const held = `${n(u.records)} records in ${n(u.bytes)} bytes`;
    lines.push(
      u.accepted
        ? `troupe replay: ACCEPTED UNCLOSED: the recording has no trailer (its writer died, or ` +
          `the file was cut): verifying what it holds, ${held}, as --accept-unclosed asks`
        : `troupe replay: NOT VERIFIED: the recording was not closed by its writer (no trailer): ` +
          `it holds ${held}; it was cut (a partial copy?) or its recorder died ` +
          `(--accept-unclosed verifies what it holds)`,
    );
  }
  if (v) {
    if (v.ok) {
      lines.push(
        `troupe replay: verified: ${n(v.equal)} outputs equal to the recorded ones, byte for byte` +
          (v.olderFormat
            ? ` (${n(v.olderFormat)} recorded in an older body format, once written in today's)`
            : "") +
          (v.unverifiable ? `; ${n(v.unverifiable)} past the cut could not be checked` : "") +
          (v.duplicates ? `; ${n(v.duplicates)} repeated recorded outputs skipped` : ""),
      );
    } else if (v.unread) {
      const u = v.unread;
      lines.push(
        `troupe replay: NOT VERIFIED: the recording is damaged at byte ${u.offset} (${u.reason}): ${
          n(u.records)
        } intact records after it were not read, ${n(u.outputs)} of them outputs not compared; ${
          n(v.equal)
        } outputs compared equal before it`,
      );
    }
    if (!v.ok && v.first) {
      const f = v.first;
      const what = f.kind === "different"
        ? `output ${f.index} on ${f.subject} differs (recorded id ${f.recordedId}, replayed id ${f.replayedId})`
        : f.kind === "missing"
        ? `output ${f.index} on ${f.subject} (recorded id ${f.recordedId}) was not produced`
        : `output ${f.index} on ${f.subject} (replayed id ${f.replayedId}) is not in the recording`;
      lines.push(`troupe replay: MISMATCH: ${what}: ${f.detail}`);
      lines.push(
        `troupe replay: ${n(v.equal)} equal, ${n(v.different)} different, ${
          n(v.missing)
        } missing, ${n(v.extra)} extra`,
      );
    }
  }
  return lines;
}

/** Seconds from `startUs` to `tUs`, to one decimal. */
function secondsInto(tUs: number, startUs: number): string {
  return ((tUs - startUs) / 1e6).toFixed(1);
}

/** Incidents listed per kind and direction, at most. */
const INCIDENTS_SHOWN = 20;

/** The lines of a what-if: per kind, the series and events compared, the incidents that moved. */
function whatIfReport(diff: OutputDiffReport): string[] {
  const lines = [
    diff.same
      ? "troupe replay: what-if: the new settings change no output"
      : "troupe replay: what-if, per kind (recorded -> with the new settings):",
  ];
  const n = (x: number) => x.toLocaleString("en-US");
  for (const d of diff.kinds) {
    const series = d.seriesKeys === 0
      ? ""
      : `per-sample outputs of ${n(d.seriesKeys)} ${d.seriesKeys === 1 ? "key" : "keys"}: ${
        n(d.seriesSame)
      } the same, ${n(d.seriesChanged.length)} changed${
        d.seriesChanged.length
          ? ` (${d.seriesChanged.slice(0, 8).join(", ")}${
            d.seriesChanged.length > 8 ? ", ..." : ""
          })`
          : ""
      }; `;
    lines.push(
      `  ${d.kind}: ${series}events ${n(d.eventsRecorded)} -> ${n(d.eventsReplayed)}: ` +
        `${n(d.appeared.length)} appeared, ${n(d.disappeared.length)} disappeared, ` +
        `${n(d.eventsChanged)} changed, ${n(d.eventsSame)} the same`,
    );
    for (const [sign, list] of [["+", d.appeared], ["-", d.disappeared]] as const) {
      for (const i of list.slice(0, INCIDENTS_SHOWN)) {
        lines.push(`    ${sign} ${describeIncident(i)}`);
      }
      if (list.length > INCIDENTS_SHOWN) {
        lines.push(`    ${sign} ... and ${n(list.length - INCIDENTS_SHOWN)} more`);
      }
    }
  }
  return lines;
}

function describeIncident(i: Incident): string {
  const score = i.score === undefined ? "" : ` score ${Number(i.score.toPrecision(3))}`;
  const state = i.state === undefined ? "" : ` ${i.state}`;
  return `${i.type} ${i.channel} at ${new Date(i.ts / 1000).toISOString()}${state}${score}`;
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
function parseTime(name: string, raw: string | undefined, startUs: number): number | undefined {
  if (raw === undefined) return undefined;
  const seconds = parseDuration(raw);
  if (seconds !== undefined) return startUs + Math.round(seconds * 1e6);
  if (/^\d{4}-\d{2}-\d{2}/.test(raw)) {
    const ms = Date.parse(raw);
    if (Number.isFinite(ms)) return Math.round(ms * 1000);
  }
  throw new UsageError(
    `Option --${name} must be seconds into the recording (90, 1.5, 30s, 5m) or an ISO time such as ` +
      `2024-01-01T12:00:00Z, got "${raw}"`,
  );
}

function readActorConfig(path: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new UsageError(`Option --config: cannot read ${path} as JSON: ${(err as Error).message}`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new UsageError(`Option --config: ${path} must hold a JSON object of kinds`);
  }
  // A host config file works too: its "actors" section.
  const obj = raw as Record<string, unknown>;
  const actors = obj.actors;
  return actors !== null && typeof actors === "object" && !Array.isArray(actors)
    ? actors as Record<string, unknown>
    : obj;
}

function describeOpenError(path: string, err: unknown): string {
  if (err instanceof RecordingFormatError) return err.message;
  const code = (err as { code?: string }).code;
  if (code === "ENOENT") return `${path}: no such file`;
  return `cannot open ${path}: ${(err as Error).message}`;
}

/** Progress on stderr, on a terminal only: the share of the file read, inputs, outputs. */
class ReplayBar {
  readonly #tty = process.stderr.isTTY === true;
  #drawn = false;

  update(p: ReplayProgress): void {
    if (!this.#tty) return;
    const f = p.fileBytes > 0 ? Math.min(1, p.bytes / p.fileBytes) : 1;
    const width = 30;
    const full = Math.round(f * width);
    process.stderr.write(
      `\r[${"#".repeat(full)}${"-".repeat(width - full)}] ${(f * 100).toFixed(0).padStart(3)}%  ${
        p.inputs.toLocaleString("en-US")
      } inputs  ${p.outputs.toLocaleString("en-US")} outputs\x1b[K`,
    );
    this.#drawn = true;
  }

  done(): void {
    if (this.#drawn) process.stderr.write("\n");
    this.#drawn = false;
  }
}
