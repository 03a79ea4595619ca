/**
 * The soak benchmark's host: a child process running one actor host from the JSON host
 * configuration given as its only argument (launchHost, as `troupe run` does). It prints
 * `{"ready":true}` once consuming, answers the stdin line `progress` with
 * `{"srcPos":n,"counts":{...}}` (the highest stream sequence its instances have applied, and each
 * stats instance's count of samples applied, by channel), stops cleanly on SIGTERM
 * (`{"stopped":true}`), and is killed with SIGKILL by the benchmark on its schedule.
 */
import process from "node:process";
import { createInterface } from "node:readline";
import { ACTOR_KINDS } from "../actors/mod.ts";
import { type StatsState, statsSummary } from "../actors/stats/mod.ts";
import { describeError, launchHost, parseHostConfig, parseStream } from "../actors/runtime/mod.ts";

const config = parseHostConfig(JSON.parse(process.argv[2] ?? "{}"), ACTOR_KINDS);
try {
  const launched = await launchHost(config, ACTOR_KINDS, {
    log: (m) => process.stderr.write(`${m}\n`),
  });
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  createInterface({ input: process.stdin }).on("line", (line) => {
    if (line.trim() !== "progress") return;
    let srcPos = 0;
    const counts: Record<string, number> = {};
    for (const { stream } of launched.host.instances()) {
      const parsed = parseStream(stream);
      const inst = parsed && launched.host.instance(parsed.kind, parsed.key);
      if (inst && inst.srcPos > srcPos) srcPos = inst.srcPos;
      if (inst && parsed.kind === "stats") {
        counts[parsed.key] = statsSummary(inst.kernelState as StatsState).count;
      }
    }
    process.stdout.write(`${JSON.stringify({ srcPos, counts })}\n`);
  });
  const fatal = launched.fatal.then((err) => process.stderr.write(`fatal: ${err.message}\n`));
  await Promise.race([new Promise((r) => process.once("SIGTERM", r)), fatal]);
  await launched.close();
  process.stdout.write(`${JSON.stringify({ stopped: true })}\n`);
  process.exit(0);
} catch (err) {
  process.stderr.write(`cannot start: ${describeError(err)}\n`);
  process.exit(1);
}
