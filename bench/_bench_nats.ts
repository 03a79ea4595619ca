/**
 * The nats-server a benchmark run starts for itself (JetStream only where the benchmark asks), and
 * the check that there is one. `TROUPE_NATS_SERVER` names another binary, as for `troupe up`: a
 * script that starts nats-server with its monitoring port (`-m`) lets a run be watched.
 */
import { BenchHaltError } from "./_bench_halt_error.ts";
import { NatsServer } from "../actors/runtime/mod.ts";
import { natsServerBinary, whyNoNatsServer } from "../actors/cluster/mod.ts";

/**
 * Starts a nats-server for one benchmark run, without JetStream unless given the directory of its
 * store; a clear error when it is missing.
 */
export function startBenchNats(bench: string, storeDir?: string): Promise<NatsServer> {
  const binary = requireNatsServer(bench);
  return NatsServer.start(storeDir === undefined ? { binary } : { binary, storeDir });
}

/**
 * The nats-server binary a benchmark starts; throws, naming the benchmark and how to install it,
 * when there is none.
 */
export function requireNatsServer(bench: string): string {
  const binary = natsServerBinary();
  if (binary === undefined) {
    throw new BenchHaltError(
      `Cannot run benchmark "${bench}": it needs nats-server, ${whyNoNatsServer()} ` +
        "(Debian/Ubuntu: apt-get install nats-server; macOS: brew install nats-server)",
    );
  }
  return binary;
}
