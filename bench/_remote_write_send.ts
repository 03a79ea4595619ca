/**
 * How `troupe bench remote-write` sends a request to a receiver (troupe's or VictoriaMetrics'),
 * as Prometheus sends it, and waits for a receiver to be ready.
 */
import { sleep } from "./_sleep.ts";

/** Waits until `url` answers 2xx, at most `ms`. */
export async function ready(url: string, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!(await fetch(url).then((r) => (r.body?.cancel(), r.ok), () => false))) {
    if (Date.now() - t0 > ms) throw new Error(`${url} was not ready within ${ms} ms`);
    await sleep(100);
  }
}

/** Sends a request, retrying a 5xx or a failed connection as Prometheus does (backing off). */
export async function send(url: string, body: Uint8Array, retries = 0): Promise<void> {
  let why = "";
  for (let attempt = 0, backoff = 100; attempt <= retries; attempt++, backoff *= 2) {
    if (attempt > 0) await sleep(Math.min(backoff, 2000));
    let r: Response;
    try {
      r = await fetch(url, {
        method: "POST",
        body: body as Uint8Array<ArrayBuffer>,
        headers: {
          "content-encoding": "snappy",
          "content-type": "application/x-protobuf",
          "x-prometheus-remote-write-version": "0.1.0",
        },
      });
    } catch (err) {
      why = `failed: ${(err as Error).message} (${(err as Error).cause})`;
      continue;
    }
    const text = await r.text();
    if (r.status < 300) return;
    why = `answered ${r.status}: ${text}`;
    if (r.status < 500) break;
  }
  throw new Error(`POST ${url} ${why}`);
}
