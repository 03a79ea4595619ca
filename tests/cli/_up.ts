/**
 * Helpers of the cli suites of `troupe up`: its command line on a data directory and free ports,
 * and the nats-servers it started, found by their store, to check that it stopped them.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type { NatsAuth, NatsRole } from "../../actors/runtime/mod.ts";

/**
 * The arguments of a `troupe up` on `dataDir` whose HTTP and collaboration servers take free
 * ports, then `args`.
 */
export function upArgs(dataDir: string, args: readonly string[] = []): string[] {
  return ["up", "--data-dir", dataDir, "--http-port", "0", "--collab-port", "0", ...args];
}

/** The process ids of the nats-servers whose command line names `storeDir` (pgrep -f). */
export function natsServersOn(storeDir: string): number[] {
  try {
    return execFileSync("pgrep", ["-f", `nats-server .*${storeDir}`], { encoding: "utf8" })
      .trim().split("\n").filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/**
 * The credentials `troupe up` on `dataDir` wrote for `role` (the host's by default): what a test
 * that reaches into its nats-server, as a host would, connects with.
 */
export function upNatsAuth(dataDir: string, role: NatsRole = "host"): NatsAuth {
  return { nkey: join(dataDir, "nats-auth", `${role}.nk`) };
}
