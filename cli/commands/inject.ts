/**
 * `troupe inject`: publishes a synthetic feed (`market`, `metrics`) or a CSV file to NATS on
 * `troupe.feed.<feed>.<channel>`, paced to a target rate in samples per second, with a progress bar
 * on stderr and, at the end, the rate achieved against the rate asked. `--labels FILE` writes the
 * feed's ground truth (anomaly windows, change points, regimes) as JSON, so that detectors can be
 * scored on what was injected. Ctrl-C stops the run early; the labels then cover what was sent.
 */
import process from "node:process";
import { describeError, type JetStreamPublisher, type NatsBus } from "../../actors/runtime/mod.ts";
import { feedPattern, feedSubject } from "../../protocol/mod.ts";
import {
  type Feed,
  inject,
  type InjectResult,
  openFeedPublisher,
  patientBus,
} from "../../sim/feeds/mod.ts";
import { type Command, EXIT_FAILURE } from "../args.ts";
import { injectOptions, openInjectFeed, reportBadRows, writeLabels } from "../inject_options.ts";
import { resultJson, resultLine } from "../inject_result.ts";
import { ProgressBar } from "../progress_bar.ts";
import { waitForSignal } from "../signals.ts";
import { describeMetricsSettings, sendMetricsSettings } from "../../sim/mod.ts";
import { NATS_OPTION } from "../nats_url.ts";
import { connectNats } from "../connect_nats.ts";
import { NATS_AUTH_OPTIONS, NATS_AUTH_USAGE } from "../nats_auth_options.ts";
import { DATA_DIR_OPTION } from "../data_dir_option.ts";

export const command: Command = {
  name: "inject",
  summary: "publish a synthetic or file feed to NATS at a target rate",
  usage: "[--feed market|metrics|csv:PATH] [--rate N] [--duration S] [--channels N] " +
    "[--channel NAME] [--batch N] [--seed N] [--labels FILE] [--nats URL] [--feed-name NAME] " +
    "[--run ID] [--json] [--data-dir DIR]" + NATS_AUTH_USAGE,
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
    "data-dir": DATA_DIR_OPTION,
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
  async run(args) {
    const o = injectOptions(args);
    const feed = await openInjectFeed(o);
    if (typeof feed === "number") return feed;
    // Fail now, not after an hour of injection, when the labels cannot be written.
    if (o.labels !== undefined && !writeLabels(o.labels, feed.truth())) return EXIT_FAILURE;
    const { nats, durationS } = o;
    const hint = "Is nats-server running? (troupe up starts one; or nats-server -js)";
    const bus = await connectNats(nats, { command: "inject", hint });
    if (bus === undefined) return EXIT_FAILURE;
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
    const patient = patientBus(bus, {
      url: nats.url,
      deadlineMs,
      signal: abort.signal,
      onLost: () =>
        process.stderr.write(`\ntroupe inject: NATS at ${nats.url} went away; reconnecting\n`),
      onBack: () =>
        process.stderr.write(`troupe inject: NATS at ${nats.url} is back; carrying on\n`),
    });
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
  const opened = await openFeedPublisher(bus, subject, {
    deadlineMs,
    signal,
    onRetry: (why) =>
      process.stderr.write(
        `\ntroupe inject: JetStream did not acknowledge a frame (${why}); ` +
          `sending again what is not acknowledged\n`,
      ),
  });
  console.error(
    opened.stream === undefined
      ? `troupe inject: delivery: at most once (core NATS: no JetStream stream keeps ` +
        `${subjects}; frames lost in flight are not known)`
      : `troupe inject: delivery: acknowledged by JetStream stream ${opened.stream}; ` +
        `what is not acknowledged is sent again (Nats-Msg-Id: the frame id)`,
  );
  return opened;
}
