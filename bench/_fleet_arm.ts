/**
 * One arm of `troupe bench fleet`: a nats-server of its own with JetStream, N leased hosts on it
 * (_fleet_hosts.ts), and the detector run's shape sent to their receivers: every channel a sample
 * every interval, in requests of up to 2,000 series (a target Prometheus scrapes), the targets'
 * scrapes spread over the interval, each request sent to one receiver as a load balancer in front
 * of them would pick it. The first round makes the channels and is not measured; the arm's
 * figures come from the rounds after it.
 */
import { loadavg } from "node:os";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { type NatsServer, partitionJournalStream } from "../actors/runtime/mod.ts";
import { jetstreamManager } from "@nats-io/jetstream";
import { percentile } from "./_bench.ts";
import { startBenchNats } from "./_bench_nats.ts";
import { FleetAnswers } from "./_fleet_answers.ts";
import { FleetHosts } from "./_fleet_hosts.ts";
import { processCpuMs, processRssMb } from "./_process_usage.ts";
import { requestBody, shardLabels } from "./_remote_write_requests.ts";
import { send } from "./_remote_write_send.ts";
import { sleep } from "./_sleep.ts";

/** Series a request: a target Prometheus scrapes, as the detector run sends them. */
const SERIES_PER_REQUEST = 2000;
/** How long an arm waits for the first round's channels to be made and answered. */
const CATCH_UP_MS = 180_000;
/** The JetStream stream the receivers journal samples into. */
const FEED_STREAM = "TROUPE_FEED";
/** The JetStream stream the leased hosts journal their instances' inputs and edge decisions in. */

/** How an arm runs. */
export interface FleetArmOptions {
  hosts: number;
  channels: number;
  partitions: number;
  /** Seconds of measured rounds. */
  seconds: number;
  intervalS: number;
  /** Seconds between the hosts' starts after their stop (0: all at once). */
  startSpreadS: number;
  /** How the load balancer picks a request's receiver. */
  balance: "round-robin" | "by-target";
  /** `snapshots.min_inputs` of every host (its default when not given). */
  snapshotMinInputs?: number | undefined;
  /** The run's scratch directory (the arm makes its own under it). */
  dir: string;
  log(message: string): void;
}

/** An arm's figures. */
export interface FleetArmFigures {
  hosts: number;
  channels: number;
  /** Channel samples of the measured rounds, and those acknowledged and answered. */
  samples: number;
  acked: number;
  answered: number;
  /**
   * Channels whose first sample (the round that makes them) had no answer by the arm's end (lost,
   * or later still), and those answered only after the catch-up window (late, not lost).
   */
  firstUnanswered: number;
  firstLate: number;
  /** Partitions claimed again after the share settled (a lease lost, its partition taken back). */
  reclaimed: number;
  /** Acknowledged samples a second over the measured rounds (their first send to the last ack). */
  ackedPerS: number;
  lagMsP99: number;
  /** Each host's resident memory after the rounds, and before any channel, in MiB. */
  rssMb: number[];
  rss0Mb: number[];
  /** CPU µs a channel's sample, every host's process summed, and nats-server's. */
  hostCpuUsPerSample: number;
  natsCpuUsPerSample: number;
  /** Compressed request bytes a sample, as sent. */
  wireBytesPerSample: number;
  /** TROUPE_FEED's bytes a sample journaled (all rounds). */
  feedBytesPerSample: number;
  /**
   * The partitions' journal streams' bytes a sample journaled (every instance's input records,
   * the edges').
   */
  journalBytesPerSample: number;
  /** The load average (1 min) as the measured rounds began and ended. */
  load: [number, number];
  /** The partitions each host held. */
  shares: Record<string, number[]>;
  /** Each host's seconds from SIGTERM to its exit, all stopped at once after the rounds. */
  stopS: number[];
  /** The hosts that did not exit 0: they did not hand off within the time `troupe run` allows. */
  stopsUnclean: number;
  /**
   * The hosts' lines as they stopped saying a lease's fence refused a write (a snapshot, a
   * purge): a lease that ran out before its partition was handed off.
   */
  fencedAtStop: number;
  /** The hosts started again after their stop, all at once: what it took (StartAgain). */
  start: StartAgain;
}

/**
 * The hosts' start after their stop, in seconds from starting them all at once: until every
 * receiver answered, every partition was held in even shares, every instance of before the stop
 * was back and none recovering, and a round sent then was answered on every channel (`answeredS`,
 * the start's figure); with the channels whose sample of that round had no answer.
 */
export interface StartAgain {
  upS: number;
  settledS: number;
  recoveredS: number;
  answeredS: number;
  unanswered: number;
  /**
   * Partitions claimed by the hosts from their start until the round was answered: the
   * partitions' count when each was recovered once, more when one was claimed and handed on.
   */
  claims: number;
  /** The instances the hosts held before their stop, and after their start. */
  instances: [number, number];
}

/** Runs one arm; everything it started is stopped before it returns. */
export async function fleetArm(o: FleetArmOptions): Promise<FleetArmFigures> {
  const dir = join(o.dir, `arm-${o.hosts}-${Date.now()}`);
  const nats = await startBenchNats("fleet", join(dir, "js"));
  let hosts: FleetHosts | undefined;
  const nc = await connect({ servers: nats.url });
  const answers = new FleetAnswers(nc);
  try {
    hosts = await FleetHosts.start(o.hosts, {
      dir,
      natsUrl: nats.url,
      partitions: o.partitions,
      // A leased host's limit is its process's, summed over its partitions, and each partition
      // counts the channels it routes to: a channel's own partition, and its coherence group's
      // (one group for all, unconfigured). Twice the channels, so that the limit refuses none.
      channelsMax: o.channels * 2,
      snapshotMinInputs: o.snapshotMinInputs,
      log: o.log,
    });
    const { figures, next } = await measureArm(hosts, { nats, nc, answers }, o);
    const before = (await hosts.instances()).total;
    const stopped = hosts;
    hosts = undefined;
    const stops = await stopped.stop();
    const again = await startAgain(stopped, before, next, o, (h) => (hosts = h));
    return {
      ...figures,
      stopS: stops.map((x) => x.s),
      stopsUnclean: stops.filter((x) => !x.clean).length,
      fencedAtStop: stopped.fencedAtStop,
      start: again,
    };
  } finally {
    answers.close();
    await nc.close();
    await hosts?.stop();
    await nats.stop();
  }
}

/** A round to send after the measured ones: what and where, its number, and its earliest time. */
type NextRound = Omit<Rounds, "count">;

/**
 * Starts the hosts of `stopped` again (given to `started`, to be stopped by the caller), waits for
 * them to settle and recover the `before` instances they held, then sends round `next` and waits
 * for its answers on every channel (CATCH_UP_MS at most); the seconds of each, from the start.
 */
async function startAgain(
  stopped: FleetHosts,
  before: number,
  next: NextRound,
  o: FleetArmOptions,
  started: (hosts: FleetHosts) => void,
): Promise<StartAgain> {
  const t0 = performance.now();
  const since = () => (performance.now() - t0) / 1000;
  const { hosts, upS, settledS } = await FleetHosts.startAgain(stopped, o);
  started(hosts);
  let now = await hosts.instances();
  while ((now.total < before || now.recovering > 0) && since() * 1000 < CATCH_UP_MS) {
    await sleep(100);
    now = await hosts.instances();
  }
  const recoveredS = since();
  await sendRounds({ ...next, count: 1 });
  while (next.answers.answered(next.from) < o.channels && since() * 1000 < CATCH_UP_MS) {
    await sleep(100);
  }
  const answeredS = since();
  const claims = await hosts.claims();
  const unanswered = o.channels - next.answers.answered(next.from);
  o.log(
    `fleet: ${o.hosts} host(s) started again after their stop: receivers up at ${
      upS.toFixed(2)
    } s, shares settled at ${settledS.toFixed(2)} s, ${now.total} of ${before} instances back ` +
      `(${now.recovering} recovering) at ${recoveredS.toFixed(2)} s, a new round answered on ` +
      `${o.channels - unanswered} of ${o.channels} channels at ${answeredS.toFixed(2)} s`,
  );
  return {
    upS,
    settledS,
    recoveredS,
    answeredS,
    unanswered,
    claims,
    instances: [before, now.total],
  };
}

/** The arm's rounds on hosts settled, its figures, and the round that would come next. */
async function measureArm(
  hosts: FleetHosts,
  on: { nats: NatsServer; nc: NatsConnection; answers: FleetAnswers },
  o: FleetArmOptions,
): Promise<{
  figures: Omit<FleetArmFigures, "stopS" | "stopsUnclean" | "fencedAtStop" | "start">;
  next: NextRound;
}> {
  const { nats, nc, answers } = on;
  const shares = await hosts.shares();
  o.log(`fleet: ${o.hosts} host(s) settled: ${JSON.stringify(shares)}`);
  const claims0 = await hosts.claims();
  const pids = hosts.pids;
  await sleep(2000);
  const rss0Mb = pids.map(processRssMb);
  const labels = targets(o.channels);
  const urls = hosts.writeUrls;
  const rounds = { labels, urls, intervalS: o.intervalS, balance: o.balance, answers };
  const made = await sendRounds({ ...rounds, from: 0, count: 1, notBeforeMs: 0 });
  const firstAnswered = await caughtUp(answers, o.channels, o.log);
  const measured = Math.max(1, Math.ceil(o.seconds / o.intervalS));
  answers.measuredFrom = 1;
  const load0 = loadavg()[0]!;
  const cpu0 = pids.map((p) => processCpuMs(p) ?? NaN);
  const nats0 = processCpuMs(nats.pid) ?? NaN;
  const t0 = performance.now();
  const sent = await sendRounds({ ...rounds, from: 1, count: measured, notBeforeMs: made.endMs });
  const elapsedS = (performance.now() - t0) / 1000;
  const answered = await lastAnswers(answers, measured, o.channels, o.intervalS);
  const samples = measured * o.channels;
  const hostCpuMs = pids.reduce<number>((s, p, i) => s + (processCpuMs(p) ?? NaN) - cpu0[i]!, 0);
  const natsCpuMs = (processCpuMs(nats.pid) ?? NaN) - nats0;
  const jsm = await jetstreamManager(nc);
  const streamBytes = async (name: string) => (await jsm.streams.info(name)).state.bytes;
  const journaled = made.acked + sent.acked;
  answers.lags.sort((a, b) => a - b);
  const next = { ...rounds, from: 1 + measured, notBeforeMs: sent.endMs };
  const figures = {
    hosts: o.hosts,
    channels: o.channels,
    samples,
    acked: sent.acked,
    answered,
    firstUnanswered: o.channels - answers.answered(0),
    firstLate: answers.answered(0) - firstAnswered,
    reclaimed: (await hosts.claims()) - claims0,
    ackedPerS: sent.acked / elapsedS,
    lagMsP99: percentile(answers.lags, 99),
    rssMb: pids.map(processRssMb),
    rss0Mb,
    hostCpuUsPerSample: (hostCpuMs * 1000) / samples,
    natsCpuUsPerSample: (natsCpuMs * 1000) / samples,
    wireBytesPerSample: (made.bytes + sent.bytes) / journaled,
    feedBytesPerSample: (await streamBytes(FEED_STREAM)) / journaled,
    journalBytesPerSample: await journalBytes(o.partitions, streamBytes) / journaled,
    load: [load0, loadavg()[0]!] as [number, number],
    shares,
  };
  return { figures, next };
}

/** The label bytes of each target of `channels` series, 2,000 a target (the last fewer). */
function targets(channels: number): Uint8Array[][] {
  const n = Math.ceil(channels / SERIES_PER_REQUEST);
  return Array.from(
    { length: n },
    (_, s) =>
      shardLabels(1000 + s, Math.min(SERIES_PER_REQUEST, channels - s * SERIES_PER_REQUEST)),
  );
}

/** What `sendRounds` sends and where. */
interface Rounds {
  labels: Uint8Array[][];
  urls: string[];
  intervalS: number;
  balance: FleetArmOptions["balance"];
  answers: FleetAnswers;
  /** The first round's number, and how many. */
  from: number;
  count: number;
  /** The earliest sample time (ms): past the last round's, so that no channel goes back. */
  notBeforeMs: number;
}

/**
 * Sends `count` rounds: in each, target `s` of `n` is scraped `s / n` of the interval in, its
 * samples timed then, as Prometheus spreads its targets' scrapes. Round-robin, the balancer
 * gives each request the next receiver (nginx's `upstream` default); by target, a target's
 * requests always go to the same receiver (a balancer hashing on the sender, as with one
 * Prometheus shard a receiver). A 5xx is retried as Prometheus retries it. Resolves once every
 * request is answered, with the samples acknowledged, the bytes sent, and the time (ms) past the
 * rounds' samples.
 */
async function sendRounds(r: Rounds): Promise<{ acked: number; bytes: number; endMs: number }> {
  const intervalMs = r.intervalS * 1000;
  if (Date.now() < r.notBeforeMs) await sleep(r.notBeforeMs - Date.now());
  const t0Ms = Math.ceil(Date.now() / 1000) * 1000;
  const t0 = performance.now();
  const pending: Promise<void>[] = [];
  let acked = 0, bytes = 0, next = 0;
  for (let k = 0; k < r.count; k++) {
    for (let s = 0; s < r.labels.length; s++) {
      const offset = Math.floor((s * intervalMs) / r.labels.length);
      const tMs = t0Ms + k * intervalMs + offset;
      const body = requestBody(r.labels[s]!, tMs, s);
      const wait = t0 + k * intervalMs + offset - performance.now();
      if (wait > 0) await sleep(wait);
      const url = r.urls[r.balance === "round-robin" ? next++ % r.urls.length : s % r.urls.length]!;
      r.answers.sent(tMs, r.from + k);
      bytes += body.length;
      pending.push(send(url, body, 10).then(() => void (acked += r.labels[s]!.length)));
    }
  }
  await Promise.all(pending);
  return { acked, bytes, endMs: t0Ms + r.count * intervalMs };
}

/**
 * Waits, from the first round's last request acknowledged, until every channel answered its first
 * sample (the host made them), at most CATCH_UP_MS; resolves with how many did. Those that did
 * not are counted, not waited for.
 */
async function caughtUp(
  answers: FleetAnswers,
  channels: number,
  log: (m: string) => void,
): Promise<number> {
  const t0 = performance.now();
  while (answers.answered(0) < channels && performance.now() - t0 < CATCH_UP_MS) {
    await sleep(200);
  }
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  log(
    `fleet: ${answers.answered(0)} of ${channels} channels made and answered ${s} s after ` +
      `the round's last request`,
  );
  return answers.answered(0);
}

/**
 * Waits for the answers of the measured rounds (`1..count`): until all are in, or an interval
 * passes with none new; resolves with how many came.
 */
async function lastAnswers(
  answers: FleetAnswers,
  count: number,
  channels: number,
  intervalS: number,
): Promise<number> {
  const sum = () => {
    let n = 0;
    for (let k = 1; k <= count; k++) n += answers.answered(k);
    return n;
  };
  let seen = sum(), quietFrom = performance.now();
  while (seen < count * channels && performance.now() - quietFrom < intervalS * 1000) {
    await sleep(200);
    const now = sum();
    if (now !== seen) [seen, quietFrom] = [now, performance.now()];
  }
  return seen;
}

/** The bytes the journal streams of `count` partitions hold. */
async function journalBytes(
  count: number,
  streamBytes: (name: string) => Promise<number>,
): Promise<number> {
  let bytes = 0;
  for (let p = 0; p < count; p++) bytes += await streamBytes(partitionJournalStream(p));
  return bytes;
}
