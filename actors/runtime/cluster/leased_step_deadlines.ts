/**
 * The step deadline of a host that shares partitions by lease: one step watchdog for the host
 * (actors/runtime/host/step_watch.ts), which all its partitions' hosts share, as they share its
 * thread; each names its instances with its partition's host id (`part-<n>`). A step on that thread
 * past its kind's deadline (troupe's kinds, a team's with `isolate_user_kinds: false`, any input a
 * partition applies as it recovers) ends the process, as on a host with a file journal: its leases
 * run out or it is started again, and the partition goes on elsewhere or here.
 *
 * Where the overrun is kept. The watchdog cannot reach NATS (the host's connection lives on the
 * thread that is stuck, and one of its own would double every host's connections for a moment that
 * may never come), so it writes what it knows to `<data_dir>/step_overrun.json`, naming the
 * partition, and ends the process. That file alone is not enough: the partition may be taken next
 * by another host (the lease runs out before this one is back; the hosts of `troupe up --hosts N`,
 * one process, start again together and claim partitions in any order), which would apply the input
 * again and be ended too. So the host's next start, before it claims any lease, records the overrun
 * in the bucket `troupe_step_overruns` under its partition (step_overrun_bucket.ts), then removes
 * the file. Whichever host starts that partition reads its key and skips the input: recovery where
 * the partition's journal holds it, the edge where JetStream input delivers it again, the skip
 * journaled in the partition's journal, which every host reads; the key goes once that skip is
 * kept. A host that takes the partition before the ended one is back meets the input without the
 * record: its own watchdog ends it in turn, and its next start records it likewise. So each host
 * is ended at most once by one input; and recovery's crash attempts, kept in the partition's edge
 * stream, skip an input the partition's journal holds once its hosts died applying it
 * `crash_attempts_max` times in a row, record or not. (startCluster records the overruns of all
 * the hosts of one process before the first starts: recordLeftStepOverrun.)
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  connectBus,
  type HostConfig,
  type HostOptions,
  letGoUndelivered,
  readStepOverrun,
  STEP_OVERRUN_FILE,
  stepDeadlineMs,
  StepOverrunSkip,
  StepWatch,
} from "../host/mod.ts";
import type { NatsBus } from "../transport/mod.ts";
import { partitionOfHostId } from "./partition_host_id.ts";
import { StepOverrunBucket } from "./step_overrun_bucket.ts";

/** A partition's step deadline on a leased host. */
export interface PartitionDeadline {
  /** What the partition's host is given. */
  options: Pick<HostOptions, "stepWatch" | "stepOverrun">;
  /** Once the partition has recovered: an overrun input nothing will deliver again is let go. */
  afterStart(): void;
}

/** A leased host's step deadlines, as launched. */
export interface LeasedStepDeadlines {
  /** The deadline of partition `p`, whose host is `hostId`, with the overrun it is to skip. */
  partition(p: number, hostId: string): Promise<PartitionDeadline>;
  /** Ends the watchdog. */
  stop(): Promise<void>;
}

/**
 * Starts the step watchdog of a leased host of `config`, having first recorded in the bucket the
 * overrun its last run left in its data directory.
 */
export async function startLeasedStepDeadlines(
  config: HostConfig,
  nc: NatsConnection,
  log: (message: string) => void,
): Promise<LeasedStepDeadlines> {
  const bucket = await StepOverrunBucket.open(nc, { replicas: config.replicas });
  mkdirSync(config.data_dir, { recursive: true });
  const file = join(config.data_dir, STEP_OVERRUN_FILE);
  await recordLeftOverrun(file, bucket, log);
  const watch = await StepWatch.start({
    file,
    hostId: config.host_id,
    deadlineMs: (kind) => stepDeadlineMs(config.supervision, kind),
  });
  return {
    async partition(p, hostId) {
      const found = await bucket.get(p, log);
      const place = { name: bucket.placeName(p), remove: () => bucket.delete(p) };
      const overrun = found && new StepOverrunSkip(found, place, log);
      return {
        options: { stepWatch: watch.forHost(hostId), ...(overrun ? { stepOverrun: overrun } : {}) },
        afterStart: () => letGoUndelivered(overrun, log),
      };
    },
    stop: () => watch.stop(),
  };
}

/**
 * Records in the bucket the overrun the last run of `config`'s host left in its data directory, if
 * it left one, over a connection of its own. The hosts of one process (`troupe up --hosts N`) start
 * one after another, the first claiming every partition it finds free: so each one's overrun is
 * recorded before the first starts, or a partition another host's overrun names would be taken
 * by the first, which applies the input again and ends them all once more.
 */
export async function recordLeftStepOverrun(
  config: HostConfig,
  log: (message: string) => void,
): Promise<void> {
  const file = join(config.data_dir, STEP_OVERRUN_FILE);
  if (config.nats === undefined || !existsSync(file)) return;
  const bus = await connectBus(config, log);
  try {
    const nc = (bus as NatsBus).nc;
    const bucket = await StepOverrunBucket.open(nc, { replicas: config.replicas });
    await recordLeftOverrun(file, bucket, log);
  } finally {
    await bus.close().catch(() => {});
  }
}

/**
 * Records in `bucket` the overrun the last run left in `file`, under the partition it names, and
 * removes the file once the bucket has it (a failure rejects, and the file is kept).
 */
async function recordLeftOverrun(
  file: string,
  bucket: StepOverrunBucket,
  log: (message: string) => void,
): Promise<void> {
  const found = readStepOverrun(file, log);
  if (found === undefined) return;
  const p = partitionOfHostId(found.host);
  if (p === undefined) {
    log(
      `${file}: an overrun of a host that did not share partitions by lease (host ` +
        `${JSON.stringify(found.host ?? null)}); its positions are not a partition's: removed`,
    );
    rmSync(file, { force: true });
    return;
  }
  await bucket.put(p, found);
  rmSync(file, { force: true });
  log(
    `${found.stream}: the step that ran past its deadline on its input at source position ` +
      `${found.src_pos} is recorded in ${
        bucket.placeName(p)
      }: the host that takes partition ${p} ` +
      `skips it`,
  );
}
