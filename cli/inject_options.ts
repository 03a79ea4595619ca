/**
 * `troupe inject`'s options read and checked, the feed they ask for opened (a bad option or a
 * missing file a UsageError naming it and its value), and its labels file written.
 */
import { writeFileSync } from "node:fs";
import { ConfigError } from "../protocol/mod.ts";
import { CsvFormatError, type Feed, type GroundTruth, openFeed } from "../sim/feeds/mod.ts";
import {
  duration,
  EXIT_FAILURE,
  flag,
  num,
  optNum,
  type ParsedArgs,
  str,
  text,
  UsageError,
} from "./args.ts";
import { resolveNats } from "./nats_auth_options.ts";

/** What `troupe inject` is asked to do, its options read and checked. */
export interface InjectOptions {
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
export function injectOptions(args: ParsedArgs): InjectOptions {
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
export async function openInjectFeed(o: InjectOptions): Promise<Feed | number> {
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
export function reportBadRows(feedSpec: string, feed: Feed): void {
  const csv = feed as Feed & { errors?: ReadonlyArray<{ message: string }>; errorCount?: number };
  if (!csv.errorCount) return;
  console.error(
    `troupe inject: ${feedSpec.slice(4)}: ${csv.errorCount} bad rows skipped, good rows kept:`,
  );
  for (const e of (csv.errors ?? []).slice(0, 10)) console.error(`  ${e.message}`);
  if (csv.errorCount > 10) console.error(`  ... and ${csv.errorCount - 10} more`);
}

/** The command-line option a feed ConfigError's field comes from. */
function optionOf(field: string): string {
  if (field === "symbols" || field === "series") return "channels";
  return field === "" ? "feed" : field;
}

/** Writes the feed's ground truth to `path`; false once a failure is said on stderr. */
export function writeLabels(path: string, truth: GroundTruth): boolean {
  try {
    writeFileSync(path, JSON.stringify(truth) + "\n");
    return true;
  } catch (err) {
    console.error(`troupe inject: cannot write the labels to ${path}: ${(err as Error).message}`);
    return false;
  }
}
