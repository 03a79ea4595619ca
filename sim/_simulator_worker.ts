/**
 * The simulator's thread (started by simulator_thread.ts): runs the simulations it is sent, one
 * after another, and answers each with its result, or with the stack of what failed it.
 */
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { ACTOR_KINDS } from "../actors/mod.ts";
import type { SimOptions } from "./_sim_options.ts";
import { type SimResult, simulate } from "./simulator.ts";

/** What the thread is started with. */
export interface SimWorkerData {
  troupeSimulator: true;
}

/** A run: its options, with the actor kinds by name (undefined: every kind, the default). */
export interface SimRunRequest {
  id: number;
  options: Omit<SimOptions, "actors">;
  kinds: string[] | undefined;
}

/** A run's answer: its result, or what failed it. */
export interface SimRunReply {
  id: number;
  result?: SimResult;
  error?: string;
}

async function run(port: NonNullable<typeof parentPort>, req: SimRunRequest): Promise<void> {
  let reply: SimRunReply;
  try {
    const actors = req.kinds?.map((k) => ACTOR_KINDS[k]!);
    const result = await simulate(actors ? { ...req.options, actors } : req.options);
    reply = { id: req.id, result };
  } catch (err) {
    reply = { id: req.id, error: (err as Error).stack ?? String(err) };
  }
  port.postMessage(reply);
}

if (
  !isMainThread && parentPort &&
  (workerData as SimWorkerData | undefined)?.troupeSimulator === true
) {
  const port = parentPort;
  // One run at a time, in the order they came.
  let queue = Promise.resolve();
  port.on("message", (req: SimRunRequest) => {
    queue = queue.then(() => run(port, req));
  });
}
