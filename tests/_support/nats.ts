/**
 * Test support: a real nats-server per suite, on a free port with JetStream in a temporary
 * directory, or a cluster of them on free loopback ports. Where the binary is missing, suites that
 * need it are skipped with one loud line.
 */
import { mkdtempSync, rmSync } from "node:fs";
import process from "node:process";
import { tmpdir } from "node:os";
import type { Test } from "uvu";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { join } from "node:path";
import { findNatsServer, NatsServer } from "../../actors/runtime/transport/nats_server.ts";
import { freePort } from "../../actors/runtime/transport/free_port.ts";

/** Whether nats-server is installed; prints a loud line once when it is not. */
export function haveNatsServer(suiteName: string): boolean {
  if (findNatsServer()) return true;
  console.log(
    `\n  !!! SKIPPED ${suiteName}: nats-server is not installed (apt-get install nats-server) !!!\n`,
  );
  return false;
}

/** The servers started here and not cleaned up yet: their pids, and their store directories. */
const running = new Map<number, string>();
let hooked = false;

/**
 * Kills what a test process leaves running when it ends: a test process that dies (an uncaught
 * error in a timer, say) runs no test's `finally`, and its nats-servers went on running for good,
 * each with its store in the temporary directory.
 */
function killOnExit(): void {
  for (const [pid, dir] of running) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
    rmSync(dir, { recursive: true, force: true });
  }
  running.clear();
}

/** Kills `server` and removes `dir` if the test process ends without cleaning up. */
function track(server: NatsServer, dir: string): void {
  const pid = server.pid;
  if (pid === undefined) return;
  if (!hooked) process.once("exit", killOnExit);
  hooked = true;
  running.set(pid, dir);
}

/** Attempts at a server or a cluster, each on fresh ports (a port found free can be taken). */
const START_ATTEMPTS = 3;

/**
 * Starts a JetStream-enabled nats-server in a fresh temporary store, on a free port: again on
 * another when the port was taken before the server bound it (up to `START_ATTEMPTS` times).
 */
export async function startTestNats(): Promise<NatsServer & { cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "troupe-nats-"));
  let server: NatsServer;
  for (let attempt = 1;; attempt++) {
    try {
      server = await NatsServer.start({ storeDir: join(dir, "js") });
      break;
    } catch (err) {
      if (!portTaken(err) || attempt >= START_ATTEMPTS) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
  const pid = server.pid;
  track(server, dir);
  return Object.assign(server, {
    async cleanup() {
      await server.stop();
      if (pid !== undefined) running.delete(pid);
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** A nats-server started for a suite and a connection to it (see `natsForSuite`). */
export interface SuiteNats {
  /** The server's client URL. */
  readonly url: string;
  readonly nc: NatsConnection;
}

/**
 * Starts a nats-server (JetStream on) and connects to it before `test`'s first test, and closes
 * both after its last; starts nothing where the suite's tests are skipped (`it` is `test.skip`).
 * The returned handle is read inside tests: before the suite starts it has neither.
 */
export function natsForSuite(test: Test, it: Test | Test["skip"]): SuiteNats {
  let server: Awaited<ReturnType<typeof startTestNats>> | undefined;
  let nc: NatsConnection | undefined;
  test.before(async () => {
    if (it === test.skip) return;
    server = await startTestNats();
    nc = await connect({ servers: server.url });
  });
  test.after(async () => {
    await nc?.close();
    await server?.cleanup();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) {
      throw new Error("The suite's nats-server is not started: read it in a test");
    }
    return value;
  };
  return {
    get url() {
      return started(server).url;
    },
    get nc() {
      return started(nc);
    },
  };
}

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(prefix = "troupe-test-"): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A cluster of JetStream-enabled nats-servers on loopback ports (see `startTestNatsCluster`). */
export interface TestNatsCluster {
  /** The nodes, `n0`, `n1`, ... by index; a killed node stays here until restarted. */
  nodes: NatsServer[];
  /** The name of the node that leads the cluster's JetStream meta group now. */
  metaLeader(): Promise<string | undefined>;
  /** Kills node `i` (SIGKILL), as a lost machine. */
  kill(i: number): Promise<void>;
  /** Starts node `i` again on its ports and store, after it was killed. */
  restart(i: number): Promise<void>;
  cleanup(): Promise<void>;
}

/**
 * Starts `size` nats-servers clustered on free loopback ports (client, route and monitoring
 * ports each), JetStream on with a store each, named `n0`, `n1`, ...; resolves once every node
 * answers JetStream requests (its meta group has a leader). A port found free can be taken by
 * another process before its node binds it (an outgoing connection's local port, say), so a
 * cluster whose node could not bind one is started again on fresh ports (`START_ATTEMPTS`).
 */
export async function startTestNatsCluster(size = 3): Promise<TestNatsCluster> {
  for (let attempt = 1;; attempt++) {
    try {
      return await startClusterOnce(size);
    } catch (err) {
      if (!portTaken(err) || attempt >= START_ATTEMPTS) throw err;
    }
  }
}

/** Whether a server failed to start because another process had one of its ports. */
function portTaken(err: unknown): boolean {
  return /address already in use/.test((err as Error | undefined)?.message ?? "");
}

/** One attempt of `startTestNatsCluster`, on ports found free now. */
async function startClusterOnce(size: number): Promise<TestNatsCluster> {
  const dir = mkdtempSync(join(tmpdir(), "troupe-nats-cluster-"));
  const ports: Array<{ client: number; route: number; http: number }> = [];
  for (let i = 0; i < size; i++) {
    ports.push({ client: await freePort(), route: await freePort(), http: await freePort() });
  }
  const routes = ports.map((p) => `nats://127.0.0.1:${p.route}`);
  const start = async (i: number) => {
    const server = await NatsServer.start({
      storeDir: join(dir, `n${i}`),
      port: ports[i]!.client,
      args: [
        ...["-n", `n${i}`, "-m", String(ports[i]!.http), "--cluster_name", "troupe-test"],
        ...["--cluster", routes[i]!, "--routes", routes.filter((_, j) => j !== i).join(",")],
      ],
    });
    track(server, dir);
    return server;
  };
  const nodes: NatsServer[] = [];
  const cleanup = async () => {
    for (const n of nodes) {
      await n.stop().catch(() => {});
      if (n.pid !== undefined) running.delete(n.pid);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < size; i++) nodes.push(await start(i));
    for (const node of nodes) await jetStreamAnswers(node);
    await metaPeersCurrent(ports.map((p) => p.http), size);
  } catch (err) {
    await cleanup();
    throw err;
  }
  return {
    nodes,
    async metaLeader() {
      for (const p of ports) {
        const jsz = await fetch(`http://127.0.0.1:${p.http}/jsz`).then(
          (r) => r.json() as Promise<{ meta_cluster?: { leader?: string } }>,
          () => undefined,
        );
        if (jsz?.meta_cluster?.leader) return jsz.meta_cluster.leader;
      }
      return undefined;
    },
    async kill(i) {
      await nodes[i]!.kill();
      if (nodes[i]!.pid !== undefined) running.delete(nodes[i]!.pid!);
    },
    async restart(i) {
      nodes[i] = await start(i);
      await jetStreamAnswers(nodes[i]!);
      await metaPeersCurrent(ports.map((p) => p.http), size);
    },
    cleanup,
  };
}

/**
 * How long the first JetStream request of `jetStreamAnswers` waits, ms, doubled at each next one
 * up to nats.js's default (5 s): a node without a meta leader yet does not answer, and a request
 * sent then would wait the whole 5 s for a leader that comes in under one.
 */
const JETSTREAM_ASK_TIMEOUT_MS_MIN = 500;
const JETSTREAM_ASK_TIMEOUT_MS_MAX = 5000;

/** Waits until `node` answers a JetStream request (30 s at most). */
async function jetStreamAnswers(node: NatsServer): Promise<void> {
  const nc = await connect({ servers: node.url });
  try {
    const t0 = Date.now();
    for (let attempt = 0;; attempt++) {
      try {
        const timeout = Math.min(
          JETSTREAM_ASK_TIMEOUT_MS_MAX,
          JETSTREAM_ASK_TIMEOUT_MS_MIN * 2 ** attempt,
        );
        const jsm = await jetstreamManager(nc, { timeout });
        await jsm.getAccountInfo();
        return;
      } catch (err) {
        if (Date.now() - t0 > 30_000) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    await nc.close();
  }
}

/**
 * Waits until the meta group's leader counts `size` peers, every other one current (30 s at most):
 * a node answers JetStream requests before the others have joined, and a stream of `size`
 * replicas created then fails with "no suitable peers for placement".
 */
async function metaPeersCurrent(httpPorts: readonly number[], size: number): Promise<void> {
  type Meta = { leader?: string; cluster_size?: number; replicas?: Array<{ current?: boolean }> };
  let seen: Meta | undefined;
  for (
    const t0 = Date.now();
    Date.now() - t0 < 30_000;
    await new Promise((r) => setTimeout(r, 200))
  ) {
    for (const port of httpPorts) {
      const jsz = await fetch(`http://127.0.0.1:${port}/jsz`).then(
        (r) => r.json() as Promise<{ meta_cluster?: Meta }>,
        () => undefined,
      );
      const meta = jsz?.meta_cluster;
      if (!meta?.leader || !meta.replicas) continue; // a follower's view lists no replicas
      seen = meta;
      const current = meta.replicas.filter((r) => r.current).length;
      if (meta.cluster_size === size && current === size - 1) return;
    }
  }
  throw new Error(
    `the NATS cluster's meta group did not count ${size} current peers in 30 s: ${
      JSON.stringify(seen)
    }`,
  );
}
