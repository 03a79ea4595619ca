/**
 * `troupe up`'s synthetic feed: the market (with the demo's crashes) or the service metrics, with
 * live-looking event times, injected at the rate asked, and the status line it prints while it
 * runs (every 10 s to a file or a pipe, live on a terminal) with the latest findings above it.
 */
import process from "node:process";
import { areaPattern, type Bus, findingOutputSubject } from "../protocol/mod.ts";
import { describeError, type NatsAuth, NatsBus } from "../actors/runtime/mod.ts";
import { inject, patientBus } from "../sim/feeds/mod.ts";
import { createUpFeed, describeDemo, describeMetricsSettings } from "../sim/mod.ts";
import { LatestFindings } from "../collab/mod.ts";
import { type UpHosts, upReceiver, type UpReceiverSettings } from "../actors/cluster/mod.ts";

/** What the feed is made of. */
export interface UpFeedOptions {
  feedKind: "market" | "metrics" | "remote-write";
  channels: number;
  rate: number;
  seed: number;
  /** The feed's step per channel. */
  intervalUs: number;
  /** The NATS server the hosts are on (the metrics receiver's thread connects to it). */
  natsUrl?: string | undefined;
  /** The receiver's credentials for `natsUrl`. */
  natsAuth?: NatsAuth | undefined;
  /** Where the receiver's token and block are kept. */
  dataDir: string;
  /** The metrics receiver's settings, with `--feed remote-write`. */
  receiver: UpReceiverSettings;
}

/**
 * Injects the synthetic feed with live-looking event times and prints the status line; stop()
 * ends both and returns what the last line says.
 */
export function startFeed(
  o: UpFeedOptions,
  bus: Bus,
  launched: UpHosts,
): { stop(): Promise<() => string>; failed: Promise<string> } {
  if (o.feedKind === "remote-write") {
    const { natsUrl: nats, natsAuth, dataDir, receiver } = o;
    return upReceiver(bus, { nats, natsAuth, dataDir, receiver });
  }
  const findings = new LatestFindings(bus);
  let outputs = 0, dead = 0;
  bus.subscribe(areaPattern("out"), () => outputs++);
  // The actors' findings are outputs too, published on their own subjects.
  bus.subscribe(areaPattern("finding"), (m) => {
    if (findingOutputSubject(m.subject) !== undefined) outputs++;
  });
  bus.subscribe(areaPattern("dlq"), () => dead++);
  // Live-looking event times: the feed starts now (remote-write returned above).
  const startUs = Math.round((performance.timeOrigin + performance.now()) * 1000);
  const { feed, batch } = createUpFeed({ ...o, feedKind: o.feedKind, startUs });
  announceFeed(o, batch);
  const t0 = performance.now();
  const abort = new AbortController();
  let sent = 0;
  const injecting = inject(patientFeedBus(bus, o.natsUrl, abort.signal), feed, {
    rate: o.rate,
    durationS: Infinity,
    feedName: o.feedKind,
    // Unique per run: input ids (and so output ids, and JetStream's Nats-Msg-Id) must not repeat
    // across runs that share a data directory.
    src: `up-${Math.round(performance.timeOrigin).toString(36)}`,
    signal: abort.signal,
    onProgress: (samples) => {
      sent = samples;
    },
  }).catch((err) => {
    // Handled at once: a feed that fails while up waits for Ctrl-C was an unhandled rejection,
    // which ended the whole process with a stack trace and left nats-server running. The host
    // and the dashboard run on.
    if (!abort.signal.aborted) {
      console.error(
        `\ntroupe up: the feed stopped: ${describeError(err)}; the host runs on (Ctrl-C to stop)`,
      );
    }
    return undefined;
  });
  const counts = () =>
    `${sent} samples sent, ${launched.applied()} inputs applied, ${outputs} outputs, ` +
    `${dead} dead letters`;
  // A live line on a terminal; a line every 10 s when the output is a file or a pipe.
  const tty = process.stderr.isTTY === true;
  let ticks = 0;
  const status = setInterval(() => {
    ticks++;
    if (!tty && ticks % 10 !== 0) return;
    const line = `${((performance.now() - t0) / 1000).toFixed(0)} s: ${counts()}`;
    // The latest findings every 10 s: a line or three above the status line.
    const found = ticks % 10 === 0 ? findings.take() : [];
    const above = found.map((l) => `troupe up: ${l}\n`).join("");
    process.stderr.write(tty ? `\r\x1b[K${above}${line}   ` : `${above}${line}\n`);
  }, 1000);
  return {
    // A synthetic feed that stops leaves the host and the dashboard running (said above).
    failed: new Promise<string>(() => {}),
    async stop() {
      abort.abort();
      const result = await injecting;
      if (result) sent = result.samples;
      clearInterval(status);
      findings.close();
      return counts;
    },
  };
}

/** The two lines that say what the feed is and what is injected. */
function announceFeed(o: UpFeedOptions, batch: number): void {
  console.log(
    `troupe up: ${
      o.feedKind === "metrics" ? describeMetricsSettings() : describeDemo(o.intervalUs)
    }`,
  );
  console.log(
    `troupe up: injecting the synthetic ${o.feedKind} feed: ${o.channels} channels, ${o.rate} ` +
      `samples/s on troupe.feed.${o.feedKind}.*, ${batch} samples of a channel to a message ` +
      `(one input to each actor kind that takes it)  (Ctrl-C to stop)`,
  );
}

/**
 * The bus the feed is injected on: on NATS, one whose flush waits out a server that does not
 * answer for a while (a JetStream stall on a loaded machine, a reconnection), saying so once each
 * time, rather than stopping the feed for the rest of the session.
 */
function patientFeedBus(bus: Bus, url: string | undefined, signal: AbortSignal): Bus {
  if (!(bus instanceof NatsBus)) return bus;
  const at = url ?? "its server";
  return patientBus(bus, {
    url: at,
    deadlineMs: Infinity,
    signal,
    onLost: () =>
      process.stderr.write(`\ntroupe up: NATS at ${at} did not answer; the feed waits for it\n`),
    onBack: () => process.stderr.write(`troupe up: NATS at ${at} answers; the feed goes on\n`),
  });
}
