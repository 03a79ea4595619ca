/**
 * What `bench pipeline`'s injector feeds, one at a time: receivers in the benchmark's process (the
 * raw nats.js subscriber, the hosts compared side by side), a host in a process of its own (the
 * default host under test, as `troupe run` runs one: _pipeline_host.ts), and the feeder that
 * points the injector at one and grants it frames as it consumes them.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import process from "node:process";
import { nowMs } from "./_bench.ts";
import { ChildScript } from "./_child_script.ts";
import type { GcPauses } from "./_gc_pauses.ts";
import { rssNowMb, rssPeakMb } from "./_process_usage.ts";

/** The subjects the injector is steered and granted frames on. */
export const CREDIT_SUBJECT = "bench.pipeline.credit";
export const CONTROL_SUBJECT = "bench.pipeline.control";

/** What a receiver has done so far: frames consumed, its process's CPU and clock. */
export interface Probe {
  consumed: number;
  /** Its process's CPU so far, all threads, µs. */
  cpuUs: number;
  /** Its process's `performance.now()`. */
  nowMs: number;
}

/** A receiver the injector can feed: where frames go, and what it has done. */
export interface Receiver {
  name: string;
  prefix: string;
  probe(): Promise<Probe>;
  /** The % of `[t0, t1)` on its clock its process's main thread spent in collections. */
  gcPct(t0Ms: number, t1Ms: number): Promise<number | undefined>;
  /** Its process's peak resident memory so far, MiB. */
  peakMb(): Promise<number>;
  /** Where its process's memory is now, MiB by part, where it tells (a host of its own). */
  memory?: () => Promise<Record<string, unknown>>;
  /** In this process: frames consumed so far, by which the feeder grants it frames. */
  consumed?: () => number;
  /** In a process of its own: grants `epoch`'s frames itself as it consumes; none if undefined. */
  grant?: (epoch: number | undefined) => void;
}

/** This process, as its receivers' figures read it: its collections and its peak memory. */
export class ThisProcess {
  readonly gc: GcPauses | undefined;
  #peak = rssNowMb();
  readonly #sampler = setInterval(() => (this.#peak = Math.max(this.#peak, rssNowMb())), 50);

  constructor(gc: GcPauses | undefined) {
    this.gc = gc;
  }

  /** Its peak resident memory so far, MiB (sampled every 50 ms, and getrusage's). */
  peakMb(): number {
    return Math.max(this.#peak, rssNowMb(), rssPeakMb() ?? 0);
  }

  close(): void {
    clearInterval(this.#sampler);
    this.gc?.close();
  }
}

/** A receiver in this process that has consumed `consumed()` frames. */
export function localReceiver(
  local: { name: string; prefix: string; consumed(): number },
  self: ThisProcess,
): Receiver {
  return {
    name: local.name,
    prefix: local.prefix,
    consumed: () => local.consumed(),
    probe() {
      const cpu = process.cpuUsage();
      return Promise.resolve({
        consumed: local.consumed(),
        cpuUs: cpu.user + cpu.system,
        nowMs: nowMs(),
      });
    },
    gcPct: (t0, t1) => Promise.resolve(self.gc?.sharePct(t0, t1)),
    peakMb: () => Promise.resolve(self.peakMb()),
  };
}

/** A host in a process of its own, and its stop. */
export interface HostProcess {
  receiver: Receiver;
  pid: number | undefined;
  close(): Promise<void>;
}

/**
 * Starts _pipeline_host.ts with `config` (a host configuration's JSON) running `kind`, granting
 * the injector up to `window` frames in flight; resolves once it consumes.
 */
export async function startHostProcess(
  name: string,
  prefix: string,
  run: { config: string; kind: string; natsUrl: string; window: number },
  log: (m: string) => void,
): Promise<HostProcess> {
  const args = [run.config, run.kind, run.natsUrl, CREDIT_SUBJECT, String(run.window)];
  const child = ChildScript.start("bench/_pipeline_host.ts", args, log);
  const ready = await child.next(120_000).catch(async (err) => {
    await child.kill();
    throw err;
  });
  if (ready.ready !== true) {
    await child.kill();
    throw new Error(`${name} said ${JSON.stringify(ready)}, not ready`);
  }
  const ask = async (line: string) => {
    child.send(line);
    return await child.next(30_000);
  };
  const probe = async () => {
    const m = await ask("probe");
    return m as unknown as Probe & { peakMb: number };
  };
  const receiver: Receiver = {
    name,
    prefix,
    probe,
    async gcPct(t0, t1) {
      const m = await ask(`gc ${t0} ${t1}`);
      return typeof m.gcPct === "number" ? m.gcPct : undefined;
    },
    peakMb: async () => (await probe()).peakMb,
    memory: () => ask("memory"),
    grant: (epoch) => child.send(epoch === undefined ? "halt" : `feed ${epoch}`),
  };
  return {
    receiver,
    pid: child.pid,
    async close() {
      child.send("halt");
      try {
        process.kill(child.pid!, "SIGTERM");
      } catch {
        // Gone already: its exit is what `wait` gives.
      }
      await child.wait();
    },
  };
}

/**
 * Points the injector at one receiver at a time and grants it frames as the receiver consumes
 * them, keeping up to `window` frames in flight; a receiver in a process of its own grants its own.
 */
export class Feeder {
  readonly #control: NatsConnection;
  readonly #window: number;
  #epoch = 0;
  #receiver: Receiver | undefined;
  #granted = 0;
  #timer: ReturnType<typeof setInterval>;

  constructor(control: NatsConnection, window: number) {
    this.#control = control;
    this.#window = window;
    this.#timer = setInterval(() => this.#grant(), 1);
  }

  /** Sends the injector's frames to `receiver`, with a fresh window. */
  switchTo(receiver: Receiver): void {
    this.#receiver?.grant?.(undefined);
    this.#epoch++;
    this.#receiver = receiver;
    this.#granted = receiver.consumed?.() ?? 0;
    // Told before the injector is: its line is read before the epoch's first frame comes.
    receiver.grant?.(this.#epoch);
    this.#control.publish(CONTROL_SUBJECT, `${this.#epoch} ${receiver.prefix}`);
    this.#control.publish(CREDIT_SUBJECT, `${this.#epoch} ${this.#window}`);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#receiver?.grant?.(undefined);
    this.#receiver = undefined;
  }

  #grant(): void {
    const consumed = this.#receiver?.consumed?.();
    if (consumed === undefined) return;
    // Grant in chunks of an eighth of the window: a publish per millisecond would cost the
    // receiving process (the host) a socket write each.
    if (consumed - this.#granted >= Math.max(1, this.#window >> 3)) {
      this.#control.publish(CREDIT_SUBJECT, `${this.#epoch} ${consumed - this.#granted}`);
      this.#granted = consumed;
    }
  }
}
