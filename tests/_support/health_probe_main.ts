/**
 * A monitor in a process of its own, started by health_probe.ts: it GETs the /healthz URL it is
 * given, one request after another, and prints each outcome as a JSON line of its own — the
 * answer's `status` and `body`, or the `error` of a request that found no server (a refused
 * connection: the server is not listening yet) — until it is stopped, or, with `--until-joining`,
 * until an answer shows clients waiting for a document (`joining` > 0). Apart from the test's
 * process, its probes are not held up by what that process does, so what they show is the
 * server's.
 */
import process from "node:process";

const [url, flag] = process.argv.slice(2);
if (url === undefined || (flag !== undefined && flag !== "--until-joining")) {
  console.error("health_probe_main.ts: give the /healthz URL to probe [--until-joining]");
  process.exit(2);
}
/** Milliseconds between tries while nothing listens at the URL. */
const RETRY_MS = 5;

for (;;) {
  let answer: Response;
  try {
    answer = await fetch(url);
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause ?? err;
    process.stdout.write(`${JSON.stringify({ error: String(cause) })}\n`);
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    continue;
  }
  const body = await answer.json() as { joining?: unknown };
  process.stdout.write(`${JSON.stringify({ status: answer.status, body })}\n`);
  if (flag === "--until-joining" && typeof body.joining === "number" && body.joining > 0) break;
}
process.exit(0);
