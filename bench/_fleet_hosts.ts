/**
 * The hosts of one arm of `troupe bench fleet`: N `troupe run --partitions auto` processes, each
 * with its own data directory, HTTP port and `remote_write` receiver, sharing the partitions of
 * one nats-server through the lease bucket as a team runs them; started, waited for until the
 * share has settled (every partition held, each host holding its even share), and stopped.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { freePort } from "../actors/runtime/mod.ts";
import { BenchHaltError } from "./_bench_halt_error.ts";
import { ChildScript } from "./_child_script.ts";
import { ready } from "./_remote_write_send.ts";
import { sleep } from "./_sleep.ts";

/** How long the hosts have to start and settle their share, and to stop once asked. */
const SETTLE_MS = 180_000;
const STOP_MS = 60_000;

/** What the hosts of an arm are started with. */
export interface FleetHostsOptions {
  /** The arm's scratch directory: each host's config file and data directory go under it. */
  dir: string;
  natsUrl: string;
  /** `partitions.count` of every host. */
  partitions: number;
  /** `limits.channels_max` of every host and its receiver. */
  channelsMax: number;
  /** `snapshots.min_inputs` of every host (its default when not given). */
  snapshotMinInputs?: number | undefined;
  log(message: string): void;
}

/** One host: its process, its configuration file and its ports. */
interface FleetHost {
  id: string;
  child: ChildScript;
  config: string;
  httpPort: number;
  writePort: number;
}

/** The part of a leased host's /healthz read here. */
interface LeasedHealth {
  ready: boolean;
  partitions?: number[];
  instances?: Record<string, number>;
}

/** A host's line saying its lease's fence refused a write: the lease ran out before its release. */
const FENCED = /lease of partition \d+ \(epoch \d+\) expired \d+ ms ago without a renewal/;

/** N leased hosts running. */
export class FleetHosts {
  readonly #hosts: FleetHost[];
  #stopping = false;
  /** The hosts' lines since their stop began that say a fence refused a write. */
  fencedAtStop = 0;

  private constructor(hosts: FleetHost[]) {
    this.#hosts = hosts;
  }

  /**
   * Starts `count` hosts one after another (each joining as a team's would) and resolves once
   * each answers, holds its even share and is ready; fails naming the hosts that did not.
   */
  static async start(count: number, options: FleetHostsOptions): Promise<FleetHosts> {
    const hosts: FleetHost[] = [];
    const fleet = new FleetHosts(hosts);
    try {
      for (let i = 1; i <= count; i++) {
        const id = `fleet-${i}`;
        const httpPort = await freePort();
        const writePort = await freePort();
        const config = writeHostConfig(id, { ...options, httpPort, writePort });
        hosts.push(fleet.#spawn({ id, config, httpPort, writePort }, options.log));
        await ready(`http://127.0.0.1:${writePort}/healthz`, SETTLE_MS);
      }
      await fleet.#settled(options.partitions);
      return fleet;
    } catch (err) {
      await fleet.stop();
      throw err;
    }
  }

  /**
   * Starts the hosts of `stopped` again, all at once, on their configuration files and data
   * directories (as after a restart of the whole fleet); resolves once each answers, with the
   * seconds until every receiver answered and until the share settled.
   */
  static async startAgain(
    stopped: FleetHosts,
    options: Pick<FleetHostsOptions, "partitions" | "log"> & { startSpreadS?: number },
  ): Promise<{ hosts: FleetHosts; upS: number; settledS: number }> {
    const hosts: FleetHost[] = [];
    const fleet = new FleetHosts(hosts);
    const t0 = performance.now();
    try {
      for (const h of stopped.#hosts) {
        if (hosts.length > 0 && options.startSpreadS) await sleep(options.startSpreadS * 1000);
        hosts.push(fleet.#spawn(h, options.log));
      }
      await Promise.all(
        hosts.map((h) => ready(`http://127.0.0.1:${h.writePort}/healthz`, SETTLE_MS)),
      );
      const upS = (performance.now() - t0) / 1000;
      await fleet.#settled(options.partitions);
      return { hosts: fleet, upS, settledS: (performance.now() - t0) / 1000 };
    } catch (err) {
      await fleet.stop();
      throw err;
    }
  }

  /** Starts `troupe run` on host `h`'s configuration file; its lines go to `log`. */
  #spawn(h: Omit<FleetHost, "child">, log: (line: string) => void): FleetHost {
    const child = ChildScript.troupe(["run", "--config", h.config], (line) => {
      if (this.#stopping && FENCED.test(line)) this.fencedAtStop++;
      log(line);
    });
    return { id: h.id, config: h.config, httpPort: h.httpPort, writePort: h.writePort, child };
  }

  /** Each host's receiver URL, in the order they started. */
  get writeUrls(): string[] {
    return this.#hosts.map((h) => `http://127.0.0.1:${h.writePort}/api/v1/write`);
  }

  /** Each host's process id (undefined where it has none). */
  get pids(): Array<number | undefined> {
    return this.#hosts.map((h) => h.child.pid);
  }

  /** The partitions each host holds now, by host id (from its /healthz). */
  async shares(): Promise<Record<string, number[]>> {
    const out: Record<string, number[]> = {};
    for (const h of this.#hosts) out[h.id] = (await health(h.httpPort))?.partitions ?? [];
    return out;
  }

  /**
   * The instances every host holds (any status), and those still recovering, summed over the
   * hosts; a host that does not answer counts as recovering one.
   */
  async instances(): Promise<{ total: number; recovering: number }> {
    let total = 0, recovering = 0;
    for (const h of this.#hosts) {
      const counts = (await health(h.httpPort))?.instances;
      if (counts === undefined) recovering++;
      for (const [status, n] of Object.entries(counts ?? {})) {
        total += n;
        if (status === "recovering") recovering += n;
      }
    }
    return { total, recovering };
  }

  /** Partitions claimed so far, summed over the hosts (`troupe_partition_claims_total`). */
  async claims(): Promise<number> {
    let n = 0;
    for (const h of this.#hosts) {
      const text = await fetch(`http://127.0.0.1:${h.httpPort}/metrics`).then((r) => r.text());
      n += Number(/^troupe_partition_claims_total(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? NaN);
    }
    return n;
  }

  /**
   * Stops every host at once (SIGTERM: each hands its partitions off as a team's host does) and
   * waits for them; one still running after its grace is killed. Resolves with each host's
   * seconds from the signal to its exit, and whether it exited 0 (`troupe run` exits 1 when its
   * host did not hand off within the time it allows).
   */
  async stop(): Promise<Array<{ s: number; clean: boolean }>> {
    const t0 = performance.now();
    this.#stopping = true;
    for (const h of this.#hosts) {
      if (h.child.pid === undefined) continue;
      try {
        process.kill(h.child.pid, "SIGTERM");
      } catch {
        // Gone already: its exit is seen below.
      }
    }
    return await Promise.all(this.#hosts.map(async (h) => {
      const code = await h.child.wait(STOP_MS);
      return { s: (performance.now() - t0) / 1000, clean: code === 0 };
    }));
  }

  /** Waits until every partition is held and each host holds ⌊count / hosts⌋ or one more. */
  async #settled(partitions: number): Promise<void> {
    const fewest = Math.floor(partitions / this.#hosts.length);
    const t0 = Date.now();
    let last = "";
    while (Date.now() - t0 < SETTLE_MS) {
      const seen = await Promise.all(this.#hosts.map((h) => health(h.httpPort)));
      const held = seen.flatMap((s) => s?.partitions ?? []);
      const even = seen.every((s) =>
        s !== undefined && s.ready && (s.partitions?.length ?? 0) >= fewest &&
        (s.partitions?.length ?? 0) <= fewest + 1
      );
      if (even && new Set(held).size === partitions && held.length === partitions) return;
      last = this.#hosts.map((h, i) => `${h.id} ${JSON.stringify(seen[i]?.partitions)}`)
        .join(", ");
      await sleep(250);
    }
    throw new BenchHaltError(
      `The ${this.#hosts.length} hosts did not settle their share of ${partitions} partitions ` +
        `within ${SETTLE_MS} ms: ${last}`,
    );
  }
}

/** A host's /healthz, or undefined while it does not answer. */
async function health(port: number): Promise<LeasedHealth | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/healthz`);
    return await r.json() as LeasedHealth;
  } catch {
    return undefined;
  }
}

/** Writes host `id`'s configuration file (a leased host with a receiver); returns its path. */
function writeHostConfig(
  id: string,
  o: FleetHostsOptions & { httpPort: number; writePort: number },
): string {
  const path = join(o.dir, `${id}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      host_id: id,
      nats: { url: o.natsUrl },
      // What a host sharing partitions by lease needs: journals every host can read.
      input: "jetstream",
      journal: { kind: "jetstream" },
      snapshots: {
        store: "kv",
        ...(o.snapshotMinInputs === undefined ? {} : { min_inputs: o.snapshotMinInputs }),
      },
      data_dir: join(o.dir, id),
      http_port: o.httpPort,
      partitions: { count: o.partitions, owned: "auto" },
      limits: { channels_max: o.channelsMax },
      remote_write: { port: o.writePort, feed: "fleet" },
    }),
  );
  return path;
}
