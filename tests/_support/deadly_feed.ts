/**
 * What the tests of a team's step past its deadline share: a host configuration of the "deadly"
 * kind (tests/_support/deadly_kinds.ts, whose value 777 loops for ever) started as `troupe run`,
 * one-sample frames for it, its outputs and dead letters as a client sees them, the dead letter
 * and the counts a skipped step leaves, a wait on a condition, and `/healthz` asked while a step
 * hangs.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import * as assert from "uvu/assert";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import { type DeadLetter, decodeDeadLetter } from "../../actors/runtime/edge/mod.ts";
import { decodeColumns, encodeFrame, feedSubject } from "../../protocol/mod.ts";
import { ROOT, type RunningTroupe, startTroupe } from "./cli.ts";

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

/**
 * Writes `file`: a host configuration running only the "deadly" kind (every built-in kind off),
 * its HTTP server on a free port; `fields` add to it and replace its fields.
 */
export function writeDeadlyConfig(file: string, fields: Record<string, unknown>): void {
  const off = Object.fromEntries(Object.keys(ACTOR_KINDS).map((k) => [k, { enabled: false }]));
  writeFileSync(
    file,
    JSON.stringify({ http_port: 0, kinds: [DEADLY], actors: { ...off, deadly: {} }, ...fields }),
  );
}

/**
 * Starts `troupe run` with `args` (and `options.env` over this process's environment) and waits
 * until host `id` runs (or stops it and throws); the host and the address of its HTTP server.
 */
export async function runHost(
  args: string[],
  id: string,
  options: { env?: Record<string, string> } = {},
): Promise<{ host: RunningTroupe; url: string }> {
  const host = startTroupe(["run", ...args], undefined, options);
  try {
    await host.waitFor(`troupe run: host ${id} running`, 60_000);
  } catch (err) {
    await host.stop();
    throw err;
  }
  const url = /(http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(host.output())?.[1];
  assert.ok(url, host.output());
  return { host, url };
}

/** An output of the "deadly" kind: its channel, its envelope's id and its value. */
export interface DeadlyOutput {
  channel: string;
  id: string;
  x: number;
}

/** A received dead letter and its subject. */
export interface ReceivedLetter {
  subject: string;
  letter: DeadLetter;
}

/** The "deadly" kind's outputs and every dead letter, as `nc` receives them. */
export interface DeadlyWatch {
  outputs: DeadlyOutput[];
  letters: ReceivedLetter[];
  /**
   * Channel `channel`'s values, each output once by its id: a restart may publish its last
   * outputs again with the same ids (Nats-Msg-Id), which JetStream drops; a new id would be an
   * input applied twice.
   */
  xs(channel: string): number[];
  /** Whether `channel` has an output of value `x`. */
  seen(channel: string, x: number): boolean;
}

/** Subscribes `nc` to the "deadly" kind's outputs and to the dead letters. */
export function watchDeadly(nc: NatsConnection): DeadlyWatch {
  const outputs: DeadlyOutput[] = [];
  const letters: ReceivedLetter[] = [];
  nc.subscribe("troupe.out.deadly.>", {
    callback: (_e, m) => {
      const { envelope, frame } = decodeColumns(m.data);
      outputs.push({
        channel: m.subject.split(".").at(-1)!,
        id: envelope.id,
        x: frame.columns.x![0]!,
      });
    },
  });
  nc.subscribe("troupe.dlq.>", {
    callback: (_e, m) =>
      void letters.push({ subject: m.subject, letter: decodeDeadLetter(m.data) }),
  });
  const xs = (channel: string) => [
    ...new Map(outputs.filter((o) => o.channel === channel).map((o) => [o.id, o.x])).values(),
  ];
  return { outputs, letters, xs, seen: (channel, x) => xs(channel).includes(x) };
}

/** What the one dead letter of a skipped step says (an absent number: any). */
export interface DeadlineLetter {
  feed: string;
  key: string;
  deadlineMs: number;
  pos?: number;
  srcPos: number;
  /** What was ended: the trials thread the step ran on, or the host whose thread ran it. */
  ended: "thread" | "host";
  elapsedMs?: number;
}

/**
 * Asserts that `letters` holds one dead letter, on `troupe.dlq.deadline`: the step of "deadly" on
 * `expected.key` that ran past its deadline, skipped, as `expected` says.
 */
export function assertDeadlineLetter(letters: ReceivedLetter[], expected: DeadlineLetter): void {
  assert.is(letters.length, 1, JSON.stringify(letters));
  const { subject, letter } = letters[0]!;
  assert.is(subject, "troupe.dlq.deadline");
  assert.is(letter.reason, "deadline");
  assert.is(letter.actor, `deadly/${expected.key}`);
  assert.is(letter.subject, feedSubject(expected.feed, expected.key));
  const num = (n: number | undefined) => n === undefined ? "\\d+" : String(n);
  const what = expected.ended === "host" ? "the host was ended" : "its thread was ended";
  assert.match(
    letter.error,
    new RegExp(
      `^Step of kind "deadly" on key "${expected.key}" ran past its deadline of ` +
        `${expected.deadlineMs} ms on its input at position ${num(expected.pos)} \\(source ` +
        `position ${expected.srcPos}\\): ${what} after ${num(expected.elapsedMs)} ms; skipped$`,
    ),
  );
}

/** `/metrics`' line counting one overrun of the "deadly" kind. */
export const OVERRUN_COUNTED = /troupe_step_deadline_overruns_total\{[^}]*kind="deadly"[^}]*\} 1\n/;
/** `/metrics`' line counting one dead letter of a step past its deadline. */
export const DEADLINE_LETTER_COUNTED =
  /troupe_dead_letters_total\{[^}]*reason="deadline"[^}]*\} 1\n/;

/** Waits until the host's `/metrics` at `url` has every one of `lines`; its text then. */
export async function untilMetrics(url: string, lines: RegExp[]): Promise<string> {
  let metrics = "";
  try {
    await until(async () => {
      metrics = await (await fetch(`${url}/metrics`)).text();
      return lines.every((line) => line.test(metrics));
    }, `${lines.join(", ")} on /metrics`);
  } catch (err) {
    throw new Error(`${(err as Error).message}; it said:\n${metrics}`);
  }
  return metrics;
}
