/**
 * The feed worker of a simulation (started by _sim_feed_thread.ts): generates the run's feed and
 * hands it over chunk by chunk, folds the fault-free reference and hands over what the checks need,
 * then runs the recovery checks as the run hands them over. Several runs in turn share it: each
 * sends its job with a port of its own.
 */
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { ACTOR_KINDS } from "../actors/mod.ts";
import { ThreadLifecycle } from "../actors/threads/mod.ts";
import { FeedGenerator } from "./_sim_feed_generator.ts";
import { loggedFrames, runChecks } from "./_sim_feed_local.ts";
import type { FeedEntry } from "./_sim_feed_log.ts";
import type { CheckViolation } from "./_sim_feed_source.ts";
import {
  CHUNK,
  CHUNK_FIRST,
  type FeedWorkerData,
  type Job,
  pack,
  packFrames,
  type Reply,
  type Request,
  unwire,
} from "./_sim_feed_wire.ts";
import { RecoveryChecker } from "./recovery_checker.ts";
import { runReference } from "./fault_free_reference.ts";

/** Hands a reply to the run and counts it in the job's signal (which the run waits on). */
type Send = (reply: Reply, transfer: ArrayBuffer[]) => void;

/** Runs one job in the worker: the feed, chunk by chunk, then the reference, then the checks. */
function runJob(job: Job): void {
  const signal = new Int32Array(job.signal);
  const send: Send = (reply, transfer) => {
    job.port.postMessage(reply, transfer);
    Atomics.add(signal, 0, 1);
    Atomics.notify(signal, 0);
  };
  try {
    const entries = sendFeed(job, send);
    const actors = job.kinds.map((k) => ACTOR_KINDS[k]!);
    const configs = new Map<string, unknown>();
    for (const def of actors) {
      const raw = job.config[def.kind];
      configs.set(
        def.kind,
        raw === undefined ? def.defaultConfig : def.parseConfig(raw, def.defaultConfig, def.kind),
      );
    }
    const ref = runReference(entries, actors, configs);
    const ids = [...ref.outputs.keys()];
    const outputs = pack(ids, [...ref.outputs.values()]);
    send({
      type: "reference",
      outputs,
      finals: [...ref.finals],
      conflicts: ref.conflicts,
      reapplied: ref.reapplied,
    }, [outputs.buf]);
    // Then the recovery checks, as the run hands them over (queued meanwhile), on the frames
    // the reference decoded.
    const checker = new RecoveryChecker(
      new Map(actors.map((def) => [def.kind, def])),
      loggedFrames((seq) => entries[seq - 1]!, ref.decoded),
    );
    runChecksAsAsked(job, checker, send);
  } catch (err) {
    send({ type: "error", message: (err as Error).stack ?? String(err) }, []);
    job.port.close();
  }
}

/** Generates the job's feed and sends it chunk by chunk (a small first one); returns it whole. */
function sendFeed(job: Job, send: Send): FeedEntry[] {
  const gen = new FeedGenerator(job.feed);
  const entries: FeedEntry[] = [];
  let chunk: FeedEntry[] = [];
  const flush = () => {
    if (!chunk.length) return;
    const { packed, headroom } = packFrames(chunk);
    const subjects = chunk.map((e) => e.subject);
    send({ type: "frames", first: chunk[0]!.seq, subjects, packed, headroom }, []);
    chunk = [];
  };
  for (let e = gen.next(); e; e = gen.next()) {
    entries.push(e);
    chunk.push(e);
    if (chunk.length >= (entries.length <= CHUNK_FIRST ? CHUNK_FIRST : CHUNK)) flush();
  }
  flush();
  return entries;
}

/** Runs the recovery checks the run sends, in order, and answers each batch with its verdicts. */
function runChecksAsAsked(job: Job, checker: RecoveryChecker, send: Send): void {
  const end = () => {
    checker.stop();
    job.port.close();
  };
  job.port.on("close", () => checker.stop());
  const slabs = new Map<number, SharedArrayBuffer>();
  job.port.on("message", (req: Request) => {
    if (req.type === "end") return end();
    const results = new Map<number, CheckViolation[]>();
    try {
      runChecks(checker, unwire(req, slabs), results);
    } catch (err) {
      send({ type: "error", message: (err as Error).stack ?? String(err) }, []);
      return end();
    }
    send({ type: "checked", results: [...results] }, []);
  });
}

if (
  !isMainThread && parentPort &&
  (workerData as FeedWorkerData | undefined)?.troupeSimReference === true
) {
  const port = parentPort;
  port.on("message", (job: Job) => runJob(job));
  new ThreadLifecycle(port).start({});
}
