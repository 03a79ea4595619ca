/**
 * The nats-server a benchmark run starts for itself (JetStream only where the benchmark asks), and
 * the check that there is one.
 */
import { BenchHaltError } from "./_bench_halt_error.ts";
import { findNatsServer, NatsServer } from "../actors/runtime/mod.ts";

/**
 * Starts a nats-server for one benchmark run, without JetStream unless given the directory of its
 * store; a clear error when it is missing.
 */
export function startBenchNats(bench: string, storeDir?: string): Promise<NatsServer> {
  requireNatsServer(bench);
  return NatsServer.start(storeDir === undefined ? {} : { storeDir });
}

/** Throws, naming the benchmark and how to install it, unless nats-server is installed. */
export function requireNatsServer(bench: string): void {
  if (!findNatsServer()) {
    throw new BenchHaltError(
      `Cannot run benchmark "${bench}": nats-server is not installed ` +
        "(Debian/Ubuntu: apt-get install nats-server; macOS: brew install nats-server)",
    );
  }
}
