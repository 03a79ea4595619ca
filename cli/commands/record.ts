/**
 * `troupe record`: captures a live session from NATS into a recording file (format in
 * sim/recording/) until Ctrl-C or `--duration`. It subscribes, then asks every host for its
 * actors' state (a state capture) and writes the answers as the file's start section, so that a
 * recording begun mid-session replays and verifies from that state. `--config FILE` stores the
 * hosts' configuration in the header, so that a replay runs the same kinds with the same
 * settings.
 */
import { mergeNatsAuth, type NatsAuth } from "../../actors/runtime/mod.ts";
import {
  ALL_SUBJECTS,
  areaPattern,
  ConfigError,
  isSubjectPattern,
  patternsOverlap,
  RECORDED_SUBJECTS,
} from "../../protocol/mod.ts";
import { describeRecording, Recorder, recordingKindsOf } from "../../sim/mod.ts";
import type { RecorderSummary, RecordingKindModule } from "../../sim/recording/mod.ts";
import {
  type Command,
  duration,
  EXIT_FAILURE,
  EXIT_USAGE,
  optNum,
  str,
  text,
  UsageError,
} from "../args.ts";
import { waitForSignal } from "../signals.ts";
import { NATS_OPTION } from "../nats_url.ts";
import { connectNats } from "../connect_nats.ts";
import { DATA_DIR_OPTION } from "../data_dir_option.ts";
import {
  NATS_AUTH_OPTIONS,
  NATS_AUTH_USAGE,
  natsAuthOf,
  resolveNats,
} from "../nats_auth_options.ts";
import { incidentConfigOf, loadHostConfig } from "../../actors/cluster/mod.ts";

/**
 * A recorder ending takes the outputs of the inputs it recorded last until none has come for
 * this long (or longer, when outputs lagged their inputs: Recorder.outputsSettled), or for this
 * long at most.
 */
const OUTPUTS_QUIET_MS = 500;
const OUTPUTS_DRAIN_MS_MAX = 5000;

export const command: Command = {
  name: "record",
  summary: "capture a live session into a recording file",
  usage: "--out FILE [--duration S] [--nats URL] [--data-dir DIR] [--subjects PATTERNS] " +
    "[--config FILE] [--seed N]" + NATS_AUTH_USAGE,
  options: {
    out: {
      type: "string",
      arg: "FILE",
      help: "The recording to write (required; replaced if it exists)",
    },
    duration: {
      type: "string",
      arg: "S",
      help: "Stop after S seconds, or 30s, 5m, 1h",
      default: 0,
      defaultText: "until Ctrl-C",
      duration: { positive: true },
    },
    nats: {
      ...NATS_OPTION,
      defaultText: `the --config file's "nats", else ${NATS_OPTION.defaultText}`,
    },
    ...NATS_AUTH_OPTIONS,
    "data-dir": DATA_DIR_OPTION,
    subjects: {
      type: "string",
      arg: "PATTERNS",
      help: "Subject patterns to record, comma-separated, not overlapping",
      default: RECORDED_SUBJECTS.join(","),
      defaultText: `every troupe subject but the requests' (${
        areaPattern("req")
      }), whose asks a recorder would hold to their timeout; ${ALL_SUBJECTS} takes them too`,
    },
    config: {
      type: "string",
      arg: "FILE",
      help: "The hosts' config file, stored in the header so replay runs the same actors",
      defaultText:
        "none; replay then runs the kinds whose outputs it holds, with their own settings",
    },
    seed: {
      type: "string",
      arg: "N",
      help: "The feed's seed, stored in the header",
      defaultText: "none",
      number: { integer: true },
    },
  },
  details: `Examples:
  troupe record --out session.rec --duration 60
  troupe record --out feed.rec --subjects '${areaPattern("feed")},${
    areaPattern("ctl")
  }' --config host.json
The file holds every message on the subjects, with its receive time: feeds, control,
actor outputs, dead letters, and, first, the actors' state when it began, as every host
answered its ask for it: replay starts from that state, so a recording begun mid-session
verifies. Replay it with: troupe replay FILE [--verify].`,
  async run(args) {
    const out = str(args, "out");
    if (out === undefined) throw new UsageError("Option --out FILE is required");
    const durationS = duration(args, "duration");
    const subjects = recordSubjects(text(args, "subjects"));
    const seed = optNum(args, "seed") ?? null;
    const configPath = str(args, "config");
    const natsFlag = str(args, "nats");
    const setup = await recordConfig(configPath, natsFlag);
    if (setup === undefined) return EXIT_USAGE;
    const { config, kinds, fileNats, fileNatsAuth } = setup;
    // The file's server with the file's credentials (under the command line's and environment's).
    const nats = fileNats !== undefined && natsFlag === undefined
      ? {
        url: fileNats,
        from: "option" as const,
        auth: mergeNatsAuth(natsAuthOf(args), fileNatsAuth),
        dataDir: text(args, "data-dir"),
      }
      : resolveNats(args, "viewer");
    const url = nats.url;

    const hint = "Is nats-server running? (troupe up starts one)";
    const bus = await connectNats(nats, { command: "record", hint });
    if (bus === undefined) return EXIT_FAILURE;
    let recorder: Recorder;
    // The duration counts from the subscription: the state capture before it is recorded time.
    const subscribedMs = performance.now();
    try {
      const begun = await Recorder.begin(bus, {
        path: out,
        subjects,
        header: { source: "troupe record", bus: url, config, seed, kinds },
      });
      recorder = begun.recorder;
      sayStart(begun.outcome);
    } catch (err) {
      await bus.close().catch(() => {});
      console.error(`troupe record: cannot create ${out}: ${(err as Error).message}`);
      return EXIT_FAILURE;
    }
    console.error(
      `troupe record: recording ${subjects.join(",")} from ${url} into ${out}` +
        (durationS > 0
          ? ` for ${durationS} s (${
            ((performance.now() - subscribedMs) / 1000).toFixed(1)
          } s of it taken by the state capture)`
          : " (Ctrl-C to stop)"),
    );
    const signal = await waitForSignal(
      durationS > 0
        ? Math.max(0, durationS * 1000 - (performance.now() - subscribedMs))
        : undefined,
    );
    // The last inputs' outputs are still on their way: taken for a moment, no input more.
    recorder.endInputs();
    await bus.flush().catch(() => {});
    await recorder.outputsSettled(OUTPUTS_QUIET_MS, OUTPUTS_DRAIN_MS_MAX);
    let code = 0;
    try {
      printSummary(recorder.stop(), signal);
    } catch (err) {
      console.error(`troupe record: ${(err as Error).message}`);
      code = EXIT_FAILURE;
    }
    await bus.close().catch(() => {});
    return code;
  },
};

/** What the recorder wrote, and that the last inputs' outputs were cut when they were. */
function printSummary(summary: RecorderSummary, signal: string): void {
  console.log(
    `troupe record: ${signal === "timeout" ? "duration reached" : signal}: ${
      describeRecording(summary)
    }`,
  );
  if (summary.outputsCut) {
    console.log(
      `troupe record: outputs came up to ${(summary.outputLagMs / 1000).toFixed(1)} s after ` +
        `their inputs, and the last inputs' were not all in ${OUTPUTS_DRAIN_MS_MAX / 1000} s ` +
        "after the last one (a host lagging its inputs): the file may lack some of them, and " +
        "says so; troupe replay --verify checks the rest",
    );
  }
}

/** What `--config` gives a recording: the header's settings and kinds, and the file's NATS URL. */
interface RecordConfig {
  config: Record<string, unknown> | null;
  kinds: RecordingKindModule[];
  /** The hosts' server: the recording's unless --nats names another. */
  fileNats: string | undefined;
  /** The file's credentials for `fileNats`. */
  fileNatsAuth: NatsAuth | undefined;
}

/** Reads `--config` (with `--nats` over its URL); undefined when it is wrong (said on stderr). */
async function recordConfig(
  configPath: string | undefined,
  natsFlag: string | undefined,
): Promise<RecordConfig | undefined> {
  if (configPath === undefined) {
    return { config: null, kinds: [], fileNats: undefined, fileNatsAuth: undefined };
  }
  try {
    const overrides = natsFlag === undefined ? {} : { nats: natsFlag };
    const { config: c, kinds: k } = await loadHostConfig(configPath, overrides);
    return {
      // The incident stage's settings too, so that a replay makes the same incidents.
      config: { actors: c.actors, limits: c.limits, incidents: incidentConfigOf(c) },
      kinds: recordingKindsOf(k),
      fileNats: c.nats,
      fileNatsAuth: c.nats_auth,
    };
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`troupe record: ${configPath}: ${err.message}`);
      return undefined;
    }
    throw err;
  }
}

/** Says on stderr what state the recording starts from, and what it lacks. */
function sayStart(outcome: Awaited<ReturnType<typeof Recorder.begin>>["outcome"]): void {
  const start = outcome.start;
  if (start) {
    const n = start.parts.reduce((sum, p) => sum + p.instances.length, 0);
    const hosts = new Set(start.parts.map((p) => p.host)).size;
    console.error(
      `troupe record: the actors' state at the start: ${n} instances from ${hosts} hosts`,
    );
  }
  for (const note of outcome.notes) console.error(`troupe record: ${note}`);
}

/**
 * The `--subjects` list: each a well-formed pattern, no two overlapping (a UsageError naming them).
 */
function recordSubjects(list: string): string[] {
  const subjects = list.split(",").map((s) => s.trim());
  for (const s of subjects) {
    if (!isSubjectPattern(s)) {
      throw new UsageError(`Option --subjects has a malformed pattern "${s}"`);
    }
  }
  for (let i = 0; i < subjects.length; i++) {
    for (let j = i + 1; j < subjects.length; j++) {
      if (patternsOverlap(subjects[i]!, subjects[j]!)) {
        throw new UsageError(
          `Option --subjects has overlapping patterns "${subjects[i]}" and "${
            subjects[j]
          }": a message on both would be recorded twice`,
        );
      }
    }
  }
  return subjects;
}
