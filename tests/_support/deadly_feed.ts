/**
 * What the tests of a team's step past its deadline share: one-sample frames for the "deadly" kind
 * (tests/_support/deadly_kinds.ts, whose value 777 loops for ever), a wait on a condition, and
 * `/healthz` asked while a step hangs.
 */
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import * as assert from "uvu/assert";
import { encodeFrame, feedSubject } from "../../protocol/mod.ts";
import { ROOT } from "./cli.ts";

/** The kinds module a host under test loads (`kinds` in its configuration). */
export const DEADLY = join(ROOT, "tests", "_support", "deadly_kinds.ts");

/** A sender of one-sample frames on feed `feed`: value `v` on `channel`, ids `f1`, `f2`, ... */
export function deadlySender(
  nc: NatsConnection,
  feed: string,
): (channel: string, v: number) => Promise<void> {
  let seq = 0;
  return async (channel, v) => {
    const t = Float64Array.of(1.7e15 + ++seq * 1000);
    nc.publish(
      feedSubject(feed, channel),
      encodeFrame({ channel, seq0: seq, t, v: Float64Array.of(v) }, { id: `f${seq}`, src: "test" }),
    );
    await nc.flush();
  };
}

/** Waits until `check` holds, or fails naming `what`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  for (const t0 = Date.now(); !(await check());) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** GETs /healthz, failing if it takes a second or more; its body and how long it took. */
export async function healthz(url: string): Promise<{ body: Record<string, unknown>; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
  const body = await res.json() as Record<string, unknown>;
  return { body, ms: performance.now() - t0 };
}

/**
 * While a step hangs: asks `/healthz` three times, each answer within a second, and after each
 * sends `other` a frame (values 10, 11, 12) and waits for its output (`seen`), so the host is shown
 * serving throughout. The answers, in order.
 */
export async function askDuringHang(
  url: string,
  other: { send: (v: number) => Promise<void>; seen: (v: number) => boolean },
): Promise<Array<Record<string, unknown>>> {
  const answers: Array<Record<string, unknown>> = [];
  for (let i = 0; i < 3; i++) {
    const { body, ms } = await healthz(url);
    assert.ok(ms < 1000, `/healthz took ${ms} ms`);
    answers.push(body);
    await other.send(10 + i);
    await until(() => other.seen(10 + i), `the other channel's output ${10 + i} during the hang`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return answers;
}
