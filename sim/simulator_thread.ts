/**
 * `simulate` on a thread of its own, whose V8 young generation is sized for the simulator rather
 * than for a host. The `troupe` command caps the main thread's young generation for a host's
 * memory (cli/troupe.mjs); a simulation is a batch computation that allocates short-lived
 * objects (messages, journal records, snapshots, trace lines of a whole cluster) at a high rate,
 * and under that cap most collections promote what would have died a moment later. On its own
 * thread the simulator gets a young generation that lets them die young
 * (`SIM_YOUNG_GENERATION_MB`). `troupe bench sim` measures the runs this way, as `troupe sim` runs
 * them.
 *
 * The thread is shared by the runs of a process, one after another, and started on first use. A
 * run goes on in process instead when the thread cannot take it: on Deno (whose workers take no
 * heap limits), from TypeScript under a loader (whose worker bundles cannot find the feed worker),
 * with actor kinds that are not troupe's own (they cannot be sent), a configuration that cannot be
 * cloned, or `TROUPE_SIM_THREADS=0`. Either way the run is the same: the same seed gives the same
 * trace, byte for byte.
 */
import process from "node:process";
import type { Worker } from "node:worker_threads";
import { ACTOR_KINDS } from "../actors/mod.ts";
import { startWorker } from "../actors/threads/mod.ts";
import { resolve, type SimOptions } from "./_sim_options.ts";
import { type SimResult, simulate } from "./simulator.ts";
import type { SimRunReply, SimRunRequest, SimWorkerData } from "./_simulator_worker.ts";

/**
 * The simulator thread's young generation, in MB: three times V8's semi-space (two semi-spaces
 * and the young large-object space), so 64 MiB semi-spaces, where the `troupe` command gives the
 * main thread 4 MiB and Node's default is 16 MiB. Larger brought no further gain in
 * `troupe bench sim`.
 */
export const SIM_YOUNG_GENERATION_MB = 192;

/** The shared thread (undefined once it failed to start: runs go on in process). */
let thread: Promise<SimThread | undefined> | undefined;

/**
 * Runs one simulation (see `simulate`) on the simulator's thread when it can take it, else in
 * process. Throws a RangeError for bad options before anything runs.
 */
export async function simulateOnThread(options: SimOptions): Promise<SimResult> {
  resolve(options); // bad options are the caller's error, named here
  const request = requestOf(options);
  if (request === undefined || !threadUsable()) return simulate(options);
  thread ??= SimThread.start();
  const t = await thread;
  if (t === undefined) return simulate(options);
  return t.run(request);
}

/** Whether runs can go to a thread here (see the module's comment). */
function threadUsable(): boolean {
  return !("Deno" in globalThis) && process.env.TROUPE_SIM_THREADS !== "0" &&
    new URL(import.meta.url).pathname.endsWith(".js");
}

/** `options` as the thread takes them (its kinds by name), or undefined when they cannot go. */
function requestOf(options: SimOptions): Omit<SimRunRequest, "id"> | undefined {
  const { actors, ...rest } = options;
  if (actors !== undefined && !actors.every((a) => ACTOR_KINDS[a.kind] === a)) return undefined;
  try {
    structuredClone(rest);
  } catch {
    return undefined;
  }
  return { options: rest, kinds: actors?.map((a) => a.kind) };
}

/** The simulator's thread and the runs waiting on it. */
class SimThread {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, (reply: SimRunReply | Error) => void>();
  #ids = 0;
  #ended = false;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.unref(); // it keeps the process alive only while a run waits on it
    worker.on("message", (reply: SimRunReply) => this.#settle(reply.id, reply));
    worker.on("error", (err) => this.#end(err));
    worker.on("exit", (code) => this.#end(new Error(`it exited with code ${code}`)));
  }

  /** Starts the thread; undefined when workers cannot be started here. */
  static start(): Promise<SimThread | undefined> {
    return startWorker(new URL("./_simulator_worker.ts", import.meta.url), {
      workerData: { troupeSimulator: true } satisfies SimWorkerData,
      resourceLimits: { maxYoungGenerationSizeMb: SIM_YOUNG_GENERATION_MB },
    }).then((worker) => new SimThread(worker), () => undefined);
  }

  run(request: Omit<SimRunRequest, "id">): Promise<SimResult> {
    const id = ++this.#ids;
    return new Promise<SimResult>((ok, fail) => {
      if (this.#waiting.size === 0) this.#worker.ref();
      this.#waiting.set(id, (reply) => {
        if (reply instanceof Error) {
          fail(new Error(`The simulator's thread stopped during a run: ${reply.message}`));
        } else if (reply.error !== undefined) {
          fail(new Error(`The simulation failed on its thread: ${reply.error}`));
        } else ok({ ...reply.result!, onThread: true });
      });
      this.#worker.postMessage({ ...request, id } satisfies SimRunRequest);
    });
  }

  #settle(id: number, reply: SimRunReply | Error): void {
    const waiter = this.#waiting.get(id);
    if (waiter === undefined) return;
    this.#waiting.delete(id);
    if (this.#waiting.size === 0) this.#worker.unref();
    waiter(reply);
  }

  /**
   * The thread ended (an error, then its exit): every waiting run fails, and the next run starts
   * a new thread.
   */
  #end(err: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    thread = undefined;
    for (const id of [...this.#waiting.keys()]) this.#settle(id, err);
  }
}
