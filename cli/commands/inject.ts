/**
 * `troupe inject`: publishes a synthetic feed (`market`, `metrics`) or a CSV file to NATS on
 * `troupe.feed.<feed>.<channel>`, paced to a target rate in samples per second, with a progress bar
 * on stderr and, at the end, the rate achieved against the rate asked. `--labels FILE` writes the
 * feed's ground truth (anomaly windows, change points, regimes) as JSON, so that detectors can be
 * scored on what was injected. Ctrl-C stops the run early; the labels then cover what was sent.
 */
import { writeFileSync } from "node:fs";
import process from "node:process";
import { jetstreamManager } from "@nats-io/jetstream";
import { describeError, JetStreamPublisher, NatsBus } from "../../actors/runtime/mod.ts";
import type { Bus } from "../../protocol/mod.ts";
import { ConfigError, feedPattern, feedSubject } from "../../protocol/mod.ts";
import {
  CsvFormatError,
  type Feed,
  type GroundTruth,
  inject,
  type InjectResult,
  openFeed,
} from "../../sim/feeds/mod.ts";
import {
  type Command,
  duration,
  EXIT_FAILURE,
  flag,
  helpText,
  num,
  optNum,
  parseCommandArgs,
  type ParsedArgs,
  str,
  text,
  UsageError,
} from "../args.ts";
import { waitForSignal } from "../signals.ts";
import { sendMetricsSettings } from "../metrics_settings.ts";
import { describeMetricsSettings } from "../../sim/mod.ts";
import { describeNatsUrl, NATS_OPTION } from "../nats_url.ts";
import { NATS_AUTH_OPTIONS, NATS_AUTH_USAGE, resolveNats } from "../nats_auth_options.ts";

/** The NATS server `inject`, `record` and `replay --nats` use when `--nats` is not given. */
export { NATS_URL_DEFAULT } from "../nats_url.ts";

export const command: Command = {
  name: "inject",
  summary: "publish a synthetic or file feed to NATS at a target rate",
  usage: "[--feed market|metrics|csv:PATH] [--rate N] [--duration S] [--channels N] " +
    "[--channel NAME] [--batch N] [--seed N] [--labels FILE] [--nats URL] [--feed-name NAME] " +
    "[--run ID] [--json]" + NATS_AUTH_USAGE,
  options: {
    feed: {
      type: "string",
      arg: "NAME",
      help: "market, metrics or csv:PATH (a timestamp,value or OHLCV file; csv:- reads the " +
        "standard input as rows arrive)",
      default: "market",
    },
    channels: {
      type: "string",
      arg: "N",
      help: "Channels: market: N symbols' prices (as troupe up; without --channels, 20 symbols " +
        "each with a price and a volume channel); metrics: N series",
      defaultText: "the feed's",
      number: { min: 1, max: 10_000, integer: true },
    },
    channel: {
      type: "string",
      arg: "NAME",
      help: "A csv feed's channel (OHLCV: the stem of its five channels)",
      defaultText: "the file's name without its extension; stdin for csv:-",
    },
    rate: {
      type: "string",
      arg: "N",
      help: "Samples per second over all channels",
      default: 10_000,
      number: { min: 0, exclusiveMin: true },
    },
    batch: {
      type: "string",
      arg: "N",
      help: "Samples per frame",
      defaultText: "the feed's, 100",
      number: { min: 1, max: 65_536, integer: true },
    },
    duration: {
      type: "string",
      arg: "S",
      help: "Seconds to run, or 30s, 5m, 1h",
      default: Infinity,
      defaultText: "until Ctrl-C, or the end of a file",
      duration: { positive: true },
    },
    seed: {
      type: "string",
      arg: "N",
      help: "Seed of a synthetic feed",
      default: 1,
      number: { min: 0, integer: true },
    },
    labels: {
      type: "string",
      arg: "FILE",
      help: "Write the ground truth (JSON) to FILE",
      defaultText: "none",
    },
    nats: NATS_OPTION,
    ...NATS_AUTH_OPTIONS,
    "feed-name": {
      type: "string",
      arg: "NAME",
      help: "The <feed> token of troupe.feed.<feed>.<channel>",
      defaultText: "the feed's name",
    },
    run: {
      type: "string",
      arg: "ID",
      help: "The run's identity (1 to 64 of A-Z a-z 0-9 _ -): frame ids are inject:ID:<channel>:" +
        "<seq0>, so a run started again with the same ID is taken for a retry and what the " +
        "hosts applied already is dropped",
      defaultText: "a new ID per start, so every run is counted",
    },
    json: { type: "boolean", help: "Print the result as one JSON object on stdout" },
  },
  details: `Examples:
  troupe inject --feed market --channels 50 --rate 100000 --duration 60 --labels truth.json
  troupe inject --feed csv:data/cpu.csv --rate 1000
  tail -f cpu.csv | troupe inject --feed csv:- --channel cpu   rows sent as they arrive
The rate is paced on an absolute schedule (sample n is due n/rate seconds after the start), so
short stalls are made up; the result line compares the rate achieved with the rate asked.`,
  // A negative number after an option is its value (`--duration -5`), not another option: join
  // them so the error names the value instead of calling the option ambiguous.
  runRaw: (argv) => runParsed(command, joinNegativeValues(argv)),
  async run(args) {
    const o = injectOptions(args);
    const feed = await openInjectFeed(o);
    if (typeof feed === "number") return feed;
    // Fail now, not after an hour of injection, when the labels cannot be written.
    if (o.labels !== undefined && !writeLabels(o.labels, feed.truth())) return EXIT_FAILURE;
    const { nats, durationS } = o;
    let bus: NatsBus;
    try {
      bus = await NatsBus.connect(nats.url, { name: "troupe-inject", auth: nats.auth });
    } catch (err) {
      console.error(
        `troupe inject: cannot connect to NATS at ${describeNatsUrl(nats)}: ` +
          `${(err as Error).message}. ` +
          `Is nats-server running? (troupe up starts one; or nats-server -js)`,
      );
      return EXIT_FAILURE;
    }
    const abort = new AbortController();
    let signalName: string | undefined;
    waitForSignal().then((name) => {
      signalName = name;
      abort.abort();
    });
    if (o.feedSpec === "metrics") await announceMetricsSettings(bus, feed);
    const bar = new ProgressBar(Number.isFinite(durationS) ? o.rate * durationS : undefined);
    const subjects = feedPattern(o.feedName ?? feed.name);
    console.error(
      `troupe inject: ${feed.name} feed, ${feed.channels.length} channels, ${o.rate} samples/s` +
        `${Number.isFinite(durationS) ? ` for ${durationS} s` : ""} on ${subjects} at ` +
        `${nats.url}${Number.isFinite(durationS) ? "" : " (Ctrl-C to stop)"}`,
    );
    // A NATS connection lost mid-run: wait for it to come back (the client reconnects and sends
    // what it buffered), but never past the end of --duration.
    const deadlineMs = Date.now() + (Number.isFinite(durationS) ? durationS * 1000 : Infinity);
    const patient = patientBus(bus, nats.url, deadlineMs, abort.signal);
    const subject = feedSubject(o.feedName ?? feed.name, feed.channels[0]!);
    const { stream, publisher } = await openPublisher(bus, subjects, subject, {
      deadlineMs,
      signal: abort.signal,
    });
    let result: InjectResult;
    try {
      result = await inject(patient, feed, {
        ...(publisher === undefined ? {} : { publisher }),
        rate: o.rate,
        durationS,
        ...(o.batch === undefined ? {} : { batch: o.batch }),
        ...(o.feedName === undefined ? {} : { feedName: o.feedName }),
        ...(o.run === undefined ? {} : { run: o.run }),
        signal: abort.signal,
        onProgress: (sent, elapsedS) => bar.update(sent, elapsedS),
      });
    } catch (err) {
      bar.done();
      publisher?.close();
      await bus.close().catch(() => {});
      console.error(
        `troupe inject: stopped: ${describeError(err)}` +
          (publisher === undefined
            ? ""
            : `; ${publisher.counts.ackedWeight} samples in ${publisher.counts.acked} frames ` +
              `were acknowledged by JetStream`),
      );
      return EXIT_FAILURE;
    } finally {
      bar.done();
      publisher?.close();
      await bus.close().catch(() => {});
    }
    if (feed.pull) reportBadRows(o.feedSpec, feed);
    if (o.labels !== undefined && !writeLabels(o.labels, feed.truth())) return EXIT_FAILURE;
    const sent = { feed, subjects, stream, publisher, signalName };
    console.log(o.json ? resultJson(o, result, sent) : resultLine(o, result, sent));
    return 0;
  },
};

/** What `troupe inject` is asked to do, its options read and checked. */
interface InjectOptions {
  feedSpec: string;
  rate: number;
  durationS: number;
  batch: number | undefined;
  channels: number | undefined;
  channel: string | undefined;
  seed: number;
  labels: string | undefined;
  nats: ReturnType<typeof resolveNats>;
  feedName: string | undefined;
  json: boolean;
  run: string | undefined;
}

/** The options of `args`, each checked: a bad one is a UsageError naming it and its value. */
function injectOptions(args: ParsedArgs): InjectOptions {
  const o: InjectOptions = {
    feedSpec: text(args, "feed"),
    rate: num(args, "rate"),
    durationS: duration(args, "duration"),
    batch: optNum(args, "batch"),
    channels: optNum(args, "channels"),
    channel: str(args, "channel"),
    seed: num(args, "seed"),
    labels: str(args, "labels"),
    nats: resolveNats(args, "operator"),
    feedName: str(args, "feed-name"),
    json: flag(args, "json"),
    run: str(args, "run"),
  };
  if (o.run !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(o.run)) {
    throw new UsageError(`Option --run must be 1 to 64 of A-Z a-z 0-9 _ -, got "${o.run}"`);
  }
  return o;
}

/**
 * The feed `o` asks for (a CSV that is not a regular file, `csv:-` among them, read as it
 * arrives), its CSV rows' errors said on stderr; a bad option or a missing file is a
 * UsageError, a bad file EXIT_FAILURE.
 */
async function openInjectFeed(o: InjectOptions): Promise<Feed | number> {
  const { feedSpec, channels, batch, feedName } = o;
  let feed: Feed;
  try {
    const options: Record<string, unknown> = {};
    if (channels !== undefined) options.channels = channels;
    // N channels, as troupe up gives: the market's symbols without their volume channels.
    if (channels !== undefined && feedSpec === "market") options.volume = false;
    if (batch !== undefined) options.batch = batch;
    if (o.channel !== undefined) {
      if (!feedSpec.startsWith("csv")) {
        throw new UsageError(`Option --channel names a csv feed's channel; --feed is ${feedSpec}`);
      }
      options.channel = o.channel;
    }
    if (!feedSpec.startsWith("csv")) options.seed = o.seed;
    feed = await openFeed(feedSpec, options);
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new UsageError(`--${optionOf(err.field)}: ${err.message}`);
    }
    if (err instanceof CsvFormatError) {
      // A file that is not there is a mistake on the command line; a bad file is a failure.
      const code = (err.cause as { code?: unknown } | undefined)?.code;
      if (code === "ENOENT" || code === "EISDIR") {
        throw new UsageError(`Option --feed ${feedSpec}: ${err.message}`);
      }
      console.error(`troupe inject: ${err.message}`);
      return EXIT_FAILURE;
    }
    throw err;
  }
  // A stream's bad rows are said at its end, once they are all known.
  if (!feed.pull) reportBadRows(feedSpec, feed);
  if (feedName !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(feedName)) {
    throw new UsageError(
      `Option --feed-name must be 1 to 64 of A-Z a-z 0-9 _ -, got "${feedName}"`,
    );
  }
  return feed;
}

/** Says on stderr how many bad rows a CSV feed skipped, and the first ten. */
function reportBadRows(feedSpec: string, feed: Feed): void {
  const csv = feed as Feed & { errors?: ReadonlyArray<{ message: string }>; errorCount?: number };
  if (!csv.errorCount) return;
  console.error(
    `troupe inject: ${feedSpec.slice(4)}: ${csv.errorCount} bad rows skipped, good rows kept:`,
  );
  for (const e of (csv.errors ?? []).slice(0, 10)) console.error(`  ${e.message}`);
  if (csv.errorCount > 10) console.error(`  ... and ${csv.errorCount - 10} more`);
}

/**
 * The synthetic metrics feed: the collapse settings for service metrics, per channel, to the host
 * that runs the actors (said in one line; no host answering is no failure).
 */
async function announceMetricsSettings(bus: NatsBus, feed: Feed): Promise<void> {
  const sent = await sendMetricsSettings(bus, {
    channels: feed.channels,
    // A host busy recovering or under load answers late; no host at all costs this wait once.
    timeoutMs: 3000,
    nowMs: Date.now(),
  });
  console.error(
    `troupe inject: ${describeMetricsSettings()}: ` +
      (sent.refused !== undefined
        ? `refused: ${sent.refused}`
        : sent.passed > 0
        ? `not taken for ${sent.passed} of ${feed.channels.length} channels: ${sent.passedWhy}`
        : sent.unanswered > 0
        ? `no host answered for ${sent.unanswered} of ${feed.channels.length} channels ` +
          `(troupe ctl collapse --key CHANNEL --set ... sets them later)`
        : `taken for ${sent.accepted} channels`),
  );
}

/**
 * The JetStream publisher of the feed, when a stream keeps `subject` (else none: core NATS, at
 * most once), and the delivery line said on stderr.
 */
async function openPublisher(
  bus: NatsBus,
  subjects: string,
  subject: string,
  { deadlineMs, signal }: { deadlineMs: number; signal: AbortSignal },
): Promise<{ stream: string | undefined; publisher: JetStreamPublisher | undefined }> {
  const stream = await feedStream(bus, subject);
  let retryTold = false;
  const publisher = stream === undefined ? undefined : new JetStreamPublisher(bus.nc, {
    // What is not acknowledged by the end of --duration gets this long more.
    deadlineMs: deadlineMs + ACK_GRACE_MS,
    signal,
    onRetry: (why) => {
      if (retryTold) return;
      retryTold = true;
      process.stderr.write(
        `\ntroupe inject: JetStream did not acknowledge a frame (${why}); ` +
          `sending again what is not acknowledged\n`,
      );
    },
  });
  console.error(
    stream === undefined
      ? `troupe inject: delivery: at most once (core NATS: no JetStream stream keeps ` +
        `${subjects}; frames lost in flight are not known)`
      : `troupe inject: delivery: acknowledged by JetStream stream ${stream}; ` +
        `what is not acknowledged is sent again (Nats-Msg-Id: the frame id)`,
  );
  return { stream, publisher };
}

/** What a run sent and how, for its result. */
interface Sent {
  feed: Feed;
  subjects: string;
  stream: string | undefined;
  publisher: JetStreamPublisher | undefined;
  signalName: string | undefined;
}

/** The result as one JSON object (`--json`). */
function resultJson(o: InjectOptions, result: InjectResult, sent: Sent): string {
  const { feed, subjects, stream, publisher } = sent;
  return JSON.stringify({
    feed: feed.name,
    run: result.run,
    subjects,
    channels: feed.channels.length,
    samples: result.samples,
    frames: result.frames,
    bytes: result.bytes,
    elapsed_s: result.elapsedS,
    asked_per_s: result.askedRate,
    achieved_per_s: result.achievedRate,
    achieved_over_asked: result.achievedRate / result.askedRate,
    delivery: publisher === undefined ? "at-most-once" : "acknowledged",
    ...(publisher === undefined ? {} : {
      stream,
      acked_frames: publisher.counts.acked,
      acked_samples: publisher.counts.ackedWeight,
      retries: publisher.counts.retries,
      duplicate_acks: publisher.counts.duplicates,
    }),
    forgiven_s: result.forgivenS,
    stopped: result.stopped,
    ...(o.labels === undefined ? {} : { labels: o.labels }),
  });
}

/** The result as the line a person reads. */
function resultLine(o: InjectOptions, result: InjectResult, sent: Sent): string {
  const { publisher, signalName } = sent;
  const ratio = result.achievedRate / result.askedRate;
  const why = result.stopped === "aborted"
    ? `stopped by ${signalName ?? "a signal"}`
    : result.stopped === "exhausted"
    ? "end of the file"
    : "duration reached";
  return `troupe inject: ${why}: ${result.samples} samples in ${result.frames} frames ` +
    `(${(result.bytes / 1e6).toFixed(1)} MB) over ${result.elapsedS.toFixed(2)} s: ` +
    `${Math.round(result.achievedRate)} samples/s achieved, ${result.askedRate} asked ` +
    `(${(ratio * 100).toFixed(1)}%)` +
    (result.forgivenS > 0
      ? `; fell behind by ${result.forgivenS.toFixed(2)} s (NATS or this machine too slow)`
      : "") +
    (o.labels === undefined ? "" : `; labels in ${o.labels}`) +
    (publisher === undefined
      ? "; sent at most once (core NATS)"
      : `; ${publisher.counts.ackedWeight} samples in ${publisher.counts.acked} frames ` +
        `acknowledged by JetStream` +
        (publisher.counts.retries ? ` (${publisher.counts.retries} sends repeated)` : "")) +
    `; run ${result.run}`;
}

import { joinNegativeValues } from "../args.ts";
export { joinNegativeValues };

/** Parses `argv` for `cmd` and runs it, printing its help for `--help`: main's path, for runRaw. */
export async function runParsed(cmd: Command, argv: string[]): Promise<number> {
  const args = parseCommandArgs(cmd, argv);
  if (args.values.help) {
    console.log(helpText(cmd));
    return 0;
  }
  return await cmd.run(args);
}

/**
 * `bus` with a flush that outlasts a lost connection: it waits for the client to reconnect (it
 * says so on stderr, once per outage) and flushes again, until `deadlineMs`; then it fails with
 * the reason. Publishes made meanwhile are buffered by the client and sent on reconnection.
 */
function patientBus(bus: NatsBus, url: string, deadlineMs: number, signal: AbortSignal): Bus {
  return {
    publish: (subject, data, options) => bus.publish(subject, data, options),
    subscribe: (pattern, handler, options) => bus.subscribe(pattern, handler, options),
    request: (subject, data, options) => bus.request(subject, data, options),
    close: () => bus.close(),
    async flush() {
      for (let told = false;;) {
        try {
          return await bus.flush();
        } catch (err) {
          if (signal.aborted) return;
          const left = deadlineMs - Date.now();
          if (left <= 0 || bus.nc.isClosed()) {
            throw new Error(`lost the NATS connection to ${url}: ${describeError(err)}`);
          }
          if (!told) {
            process.stderr.write(`\ntroupe inject: NATS at ${url} went away; reconnecting\n`);
            told = true;
          }
          if (!await bus.whenConnected(Math.min(left, 2_147_000_000), signal)) {
            if (signal.aborted) return;
            throw new Error(
              `NATS at ${url} did not come back before the end of --duration: ${
                describeError(err)
              }`,
            );
          }
          process.stderr.write(`troupe inject: NATS at ${url} is back; carrying on\n`);
        }
      }
    },
  };
}

/** Milliseconds past the end of --duration that unacknowledged frames are retried for. */
const ACK_GRACE_MS = 30_000;

/** The JetStream stream that keeps `subject`, if JetStream is on and one does. */
async function feedStream(bus: NatsBus, subject: string): Promise<string | undefined> {
  try {
    const jsm = await jetstreamManager(bus.nc, { timeout: 2_000 });
    return await jsm.streams.find(subject);
  } catch {
    return undefined;
  }
}

/** The command-line option a feed ConfigError's field comes from. */
function optionOf(field: string): string {
  if (field === "symbols" || field === "series") return "channels";
  return field === "" ? "feed" : field;
}

function writeLabels(path: string, truth: GroundTruth): boolean {
  try {
    writeFileSync(path, JSON.stringify(truth) + "\n");
    return true;
  } catch (err) {
    console.error(`troupe inject: cannot write the labels to ${path}: ${(err as Error).message}`);
    return false;
  }
}

/**
 * A one-line progress bar on stderr, redrawn in place on a terminal; elsewhere (a pipe, a log
 * file) a plain line every 5 seconds, so logs stay readable.
 */
class ProgressBar {
  readonly #total: number | undefined;
  readonly #tty = process.stderr.isTTY === true;
  #lastLineS = 0;
  #drawn = false;

  constructor(total: number | undefined) {
    this.#total = total;
  }

  update(sent: number, elapsedS: number): void {
    const rate = elapsedS > 0 ? sent / elapsedS : 0;
    const counts = `${sent.toLocaleString("en-US")} samples  ${
      Math.round(rate).toLocaleString("en-US")
    }/s  ${elapsedS.toFixed(1)} s`;
    if (!this.#tty) {
      if (elapsedS - this.#lastLineS >= 5) {
        this.#lastLineS = elapsedS;
        process.stderr.write(`troupe inject: ${counts}\n`);
      }
      return;
    }
    let line = counts;
    if (this.#total !== undefined && this.#total > 0) {
      const width = 30;
      const f = Math.min(1, sent / this.#total);
      const full = Math.round(f * width);
      line = `[${"#".repeat(full)}${"-".repeat(width - full)}] ${
        (f * 100).toFixed(0).padStart(3)
      }%  ${counts}`;
    }
    process.stderr.write(`\r${line}\x1b[K`);
    this.#drawn = true;
  }

  done(): void {
    if (this.#drawn) process.stderr.write("\n");
    this.#drawn = false;
  }
}
