/**
 * The failover benchmark's host: a child process running one host that shares partitions by
 * lease (launchLeasedHost, as `troupe run --partitions auto` does) from the JSON host
 * configuration given as its only argument. It prints `{"ready":true}` once it has joined,
 * answers the stdin line `status` with `{"consuming":[...]}` (the partitions whose host has
 * recovered and consumes), hands off on SIGTERM (`{"stopped":true}`), and is killed with SIGKILL
 * by the benchmark.
 */
import process from "node:process";
import { createInterface } from "node:readline";
import { ACTOR_KINDS } from "../actors/mod.ts";
import {
  describeError,
  launchLeasedHost,
  type LeaseSettings,
  parseHostConfig,
} from "../actors/runtime/mod.ts";

const config = parseHostConfig(JSON.parse(process.argv[2] ?? "{}"), ACTOR_KINDS);
try {
  const leases = config.partitions.leases as LeaseSettings;
  const launched = await launchLeasedHost(
    { ...config, partitions: { ...config.partitions, leases } },
    ACTOR_KINDS,
    // The time of day on each line: the bench's log lines up with the hosts' (a node kill's).
    { log: (m) => process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${m}\n`) },
  );
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  createInterface({ input: process.stdin }).on("line", (line) => {
    if (line.trim() !== "status") return;
    const consuming = [...launched.partitions].filter(([, h]) => h.ready).map(([p]) => p);
    process.stdout.write(`${JSON.stringify({ consuming })}\n`);
  });
  await new Promise((r) => process.once("SIGTERM", r));
  await launched.close();
  process.stdout.write(`${JSON.stringify({ stopped: true })}\n`);
  process.exit(0);
} catch (err) {
  process.stderr.write(`cannot start: ${describeError(err)}\n`);
  process.exit(1);
}
