/**
 * A monitor in a process of its own, started by health_probe.ts: it GETs the /healthz URL it is
 * given, one request after another, and prints each answer's `joining` on a line of its own, until
 * an answer shows clients waiting for a document (`joining` > 0) or it is stopped. Apart from the
 * test's process, its probes are not held up by what that process receives, so what they show is
 * the server's.
 */
import process from "node:process";

const url = process.argv[2];
if (url === undefined) {
  console.error("health_probe_main.ts: give the /healthz URL to probe");
  process.exit(2);
}
for (;;) {
  const answer = await (await fetch(url)).json() as { joining?: unknown };
  const joining = answer.joining;
  if (typeof joining !== "number") {
    console.error(`health_probe_main.ts: ${url} answered no number "joining": ${answer}`);
    process.exit(1);
  }
  process.stdout.write(`${joining}\n`);
  if (joining > 0) break;
}
process.exit(0);
