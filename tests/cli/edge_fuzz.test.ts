/**
 * No input stops a host: every field of a sample frame and of a control message is sent through
 * its extremes (±0, subnormals, ±MAX_SAFE_INTEGER, 1e300, NaN, ±Infinity, empty, huge counts,
 * wrong types) at a `troupe run` host running every kind on a real nats-server (JetStream input,
 * so control messages come through the control stream too). After each case its /healthz is 200
 * and the next good frame is applied; a frame or control message that cannot be taken is
 * dead-lettered naming the field; a flood of new channel names meets the channel limit, counted
 * in /metrics. Then the host is killed (-9) and started again on the same data directory: it
 * recovers everything it journaled, and takes the next good frame.
 *
 * Seeded: the cases' order and the values mixed into them come from TROUPE_FUZZ_SEED (printed).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { encode } from "@msgpack/msgpack";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { ensureFeedStream } from "../../actors/runtime/edge/jetstream_input.ts";
import { decodeDeadLetter } from "../../actors/runtime/edge/dead_letter.ts";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import { Prng } from "../../sim/mod.ts";
import {
  bytesEqual,
  ctlSubject,
  decodeEnvelope,
  feedSubject,
  FRAME_TIME_US_MAX,
  PROTOCOL_VERSION,
} from "../../protocol/mod.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { type RunningTroupe, startTroupe } from "../_support/cli.ts";

const test = suite("edge fuzz");
const SEED = Number(process.env.TROUPE_FUZZ_SEED ?? 52);
const CHANNELS_MAX = 12;
const SAMPLES_MAX = 1000;
const T0 = 1_700_000_000_000_000;
const MAX = Number.MAX_SAFE_INTEGER;

/** The numbers every numeric field goes through. */
const EXTREMES: number[] = [
  0,
  -0,
  Number.MIN_VALUE,
  -Number.MIN_VALUE,
  2.2250738585072014e-308 / 3, // a subnormal that is not the smallest
  MAX,
  -MAX,
  1e16,
  1e300,
  -1e300,
  Number.MAX_VALUE,
  NaN,
  Infinity,
  -Infinity,
];

/** One fuzz case: what is sent, and, for one that cannot be taken, the field its refusal names. */
interface Case {
  name: string;
  subject: string;
  bytes: Uint8Array;
  /** A dead letter with these bytes must name this (the field, or text of the reason). */
  refused?: string;
}

function bin(xs: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float64Array.from(xs).buffer);
}

/** A frame message, its fields as given (anything: msgpack carries what it is handed). */
function frameBytes(fields: {
  env?: Record<string, unknown>;
  body?: Record<string, unknown> | unknown;
}): Uint8Array {
  const body = fields.body;
  return encode({
    v: PROTOCOL_VERSION,
    id: "fz",
    type: "frame",
    src: "fuzz",
    ts: 0,
    ...fields.env,
    body,
  });
}

function goodBody(channel: string, seq0: number, n = 2): Record<string, unknown> {
  const t = Array.from({ length: n }, (_, i) => T0 + (seq0 + i) * 1000);
  return { channel, seq0, t: bin(t), v: bin(t.map((_, i) => 100 + i)) };
}

/** Every case, in an order the seed shuffles; ids are unique so JetStream keeps each. */
function cases(rng: Prng): Case[] {
  const out: Case[] = [];
  let n = 0;
  const add = (name: string, channel: string, bytes: Uint8Array, refused?: string) =>
    out.push({
      name,
      subject: feedSubject("fz", channel),
      bytes,
      ...(refused === undefined ? {} : { refused }),
    });
  const frame = (
    name: string,
    body: unknown,
    refused?: string,
    env: Record<string, unknown> = {},
    channel = "x0",
  ) => add(name, channel, frameBytes({ env: { id: `fz-${++n}`, ...env }, body }), refused);
  const ch = () => `x${rng.int(4)}`;
  for (const x of EXTREMES) {
    const inRange = x >= 0 && x <= FRAME_TIME_US_MAX; // -0 too
    const c = ch();
    // A time at the extreme, first or last of a frame (non-decreasing either way when valid).
    frame(
      `t = [${x}, ${x}]`,
      { ...goodBody(c, 0), t: bin([x, x]) },
      inRange ? undefined : "body.t[0]",
      {},
      c,
    );
    frame(
      `t = [T0, ${x}]`,
      { ...goodBody(c, 0), t: bin([T0, x]) },
      x >= T0 && x <= FRAME_TIME_US_MAX ? undefined : "body.t[1]",
      {},
      c,
    );
    const finite = Number.isFinite(x);
    frame(
      `v = [1, ${x}]`,
      { ...goodBody(c, 0), v: bin([1, x]) },
      finite ? undefined : "body.v[1]",
      {},
      c,
    );
    const seqOk = Number.isInteger(x) && x >= 0 && x + 2 <= MAX;
    frame(`seq0 = ${x}`, { ...goodBody(c, 0), seq0: x }, seqOk ? undefined : "seq0", {}, c);
    frame(`ts = ${x}`, goodBody(c, 0), Number.isSafeInteger(x) ? undefined : "ts", { ts: x }, c);
  }
  // Wrong types, empty and huge counts, malformed bytes.
  const c = "x1";
  frame("t as a list of numbers", { ...goodBody(c, 0), t: [T0, T0] }, "body.t", {}, c);
  frame("v as a string", { ...goodBody(c, 0), v: "1,2" }, "body.v", {}, c);
  frame("seq0 as a string", { ...goodBody(c, 0), seq0: "0" }, "seq0", {}, c);
  frame("channel as a number", { ...goodBody(c, 0), channel: 7 }, "channel", {}, c);
  frame("channel empty", { ...goodBody(c, 0), channel: "" }, "channel", {}, c);
  frame(
    "channel of 65 characters",
    { ...goodBody(c, 0), channel: "a".repeat(65) },
    "channel",
    {},
    c,
  );
  frame("channel of another subject", goodBody("x2", 0), "not", {}, c);
  frame("body a list", [1, 2], "body", {}, c);
  frame("body missing t", { channel: c, seq0: 0, v: bin([1]) }, "body.t", {}, c);
  frame("no samples", { channel: c, seq0: 0, t: bin([]), v: bin([]) }, undefined, {}, c);
  frame("t of 7 bytes", { ...goodBody(c, 0), t: new Uint8Array(7) }, "body.t", {}, c);
  frame("t and v of different lengths", { ...goodBody(c, 0), v: bin([1]) }, "body.v", {}, c);
  const big = SAMPLES_MAX + 1;
  frame(
    `${big} samples`,
    {
      channel: c,
      seq0: 0,
      t: bin(Array.from({ length: big }, (_, i) => T0 + i)),
      v: new Uint8Array(big * 8),
    },
    `over the limit of ${SAMPLES_MAX}`,
    {},
    c,
  );
  frame("version 99", goodBody(c, 0), "v", { v: 99 }, c);
  frame("type tick", goodBody(c, 0), "type", { type: "tick" }, c);
  frame("id a number", goodBody(c, 0), "id", { id: 5 }, c);
  frame("src a map", goodBody(c, 0), "src", { src: { a: 1 } }, c);
  add("empty bytes", c, new Uint8Array(0), "decode");
  add("not msgpack", c, new Uint8Array([0xc1]), "decode");
  add(
    "a truncated frame",
    c,
    frameBytes({ env: { id: `fz-${++n}` }, body: goodBody(c, 0) }).slice(0, 40),
    "decode",
  );
  const deep = new Uint8Array(101).fill(0x91); // fixarrays of one, 100 deep, round a 1
  deep[100] = 0x01;
  add("a 100-deep list", c, deep, "nested");
  // Control messages through every kind's extremes (the stream delivers them, unanswered).
  const ctl = (name: string, subject: string, body: unknown, refused?: string) =>
    out.push({
      name,
      subject,
      bytes: encode({
        v: PROTOCOL_VERSION,
        id: `ctl-${++n}`,
        type: "config",
        src: "fuzz",
        ts: 0,
        body,
      }),
      ...(refused === undefined ? {} : { refused }),
    });
  // Kind-wide for every kind but stats (its outputs say a good frame was applied), keyed for it.
  const targets: Array<[string, string]> = Object.keys(ACTOR_KINDS).map((kind) =>
    kind === "stats" ? [kind, ctlSubject(kind, "x0")] : [kind, ctlSubject(kind)]
  );
  for (const [kind, subject] of targets) {
    const field = firstNumberField(kind);
    for (const x of EXTREMES) {
      ctl(
        `${kind} ${field} = ${x}`,
        subject,
        { [field]: x },
        Number.isFinite(x) && Math.abs(x) <= MAX ? undefined : field,
      );
    }
    ctl(`${kind} ${field} as a string`, subject, { [field]: "5" }, field);
    ctl(`${kind} ${field} as a list`, subject, { [field]: [1] }, field);
    ctl(`${kind} an unknown field`, subject, { no_such_field: 1 }, "no_such_field");
    ctl(`${kind} a list body`, subject, [1, 2], `ctl.${kind}`);
    ctl(`${kind} a string body`, subject, "x", `ctl.${kind}`);
    ctl(`${kind} a null body`, subject, null, `ctl.${kind}`);
    ctl(`${kind} an empty body`, subject, {});
  }
  ctl("a kind no host runs", ctlSubject("nosuchkind"), { a: 1 }, "does not run");
  out.push({
    name: "a control message not msgpack",
    subject: ctlSubject("anomaly"),
    bytes: new Uint8Array([0xc1]),
    refused: "decode",
  });
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A numeric setting of `kind` (the first in its defaults). */
function firstNumberField(kind: string): string {
  const config = ACTOR_KINDS[kind]!.defaultConfig as Record<string, unknown>;
  const field = Object.keys(config).find((k) => typeof config[k] === "number");
  if (field === undefined) throw new Error(`kind ${kind} has no numeric setting`);
  return field;
}

async function until(check: () => boolean, what: () => string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`seed ${SEED}: timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function portOf(host: RunningTroupe): number {
  const m = /http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(host.output());
  if (!m) throw new Error(`no port in:\n${host.output()}`);
  return Number(m[1]);
}

if (haveNatsServer("edge fuzz")) {
  test("every field of a frame and a control message through its extremes: the host stays healthy, takes the next good frame, dead-letters what it cannot take, and recovers after a kill -9", async () => {
    console.log(`  edge fuzz: seed ${SEED} (TROUPE_FUZZ_SEED=${SEED} repeats it)`);
    const rng = new Prng(SEED);
    const nats = await startTestNats();
    const dir = tempDir();
    const nc = await connect({ servers: nats.url });
    let host: RunningTroupe | undefined;
    let at = "start";
    try {
      await ensureFeedStream(nc);
      const js = jetstream(nc);
      const config = join(dir.path, "host.json");
      const actors: Record<string, unknown> = {};
      for (const kind of Object.keys(ACTOR_KINDS)) actors[kind] = {};
      actors.stats = { every_samples: 1 }; // an output for every frame applied
      writeFileSync(
        config,
        JSON.stringify({
          host_id: "fz",
          nats: nats.url,
          data_dir: join(dir.path, "host"),
          input: "jetstream",
          http_port: 0,
          journal: { kind: "file", fsync: "interval", fsync_interval_ms: 20 },
          limits: { channels_max: CHANNELS_MAX, samples_per_frame_max: SAMPLES_MAX },
          actors,
        }),
      );
      const applied = new Set<string>();
      nc.subscribe("troupe.out.stats.good", {
        callback: (_e, m) => void applied.add(decodeEnvelope(m.data).cause ?? ""),
      });
      const dead: Array<{ raw: Uint8Array; text: string }> = [];
      nc.subscribe("troupe.dlq.>", {
        callback: (_e, m) => {
          const d = decodeDeadLetter(m.data);
          dead.push({ raw: d.raw, text: `${m.subject} ${d.field ?? ""} ${d.error}` });
        },
      });
      let goods = 0;
      let port = 0;
      const healthy = async () => {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        const body = await res.text();
        assert.is(
          res.status,
          200,
          `seed ${SEED}, after ${at}: /healthz ${body}\n${host!.output()}`,
        );
      };
      /** Sends the next good frame on channel "good" and waits for it to be applied. */
      const good = async () => {
        const id = `good-${++goods}`;
        const body = goodBody("good", goods * 2);
        await js.publish(feedSubject("fz", "good"), frameBytes({ env: { id }, body }));
        await until(
          () => applied.has(id),
          () => `after ${at}: good frame ${id} not applied\n${host!.output().slice(-3000)}`,
        );
      };
      const start = async () => {
        host = startTroupe(["run", "--config", config]);
        await host.waitFor("troupe run: host fz running", 60_000);
        port = portOf(host);
      };
      await start();
      await good();
      const all = cases(rng);
      for (const c of all) {
        at = c.name;
        if (c.subject.startsWith("troupe.feed.")) await js.publish(c.subject, c.bytes);
        else nc.publish(c.subject, c.bytes);
        await good();
        await healthy();
        if (c.refused !== undefined) {
          await until(
            () => dead.some((d) => bytesEqual(d.raw, c.bytes)),
            () => `"${c.name}" was not dead-lettered`,
          );
          const letter = dead.find((d) => bytesEqual(d.raw, c.bytes))!;
          assert.match(letter.text, c.refused, `seed ${SEED}, "${c.name}": ${letter.text}`);
        }
        assert.is(host!.child.exitCode, null, `seed ${SEED}: the host exited after "${c.name}"`);
      }
      // A flood of new channel names meets the limit: refused, counted, dead-lettered.
      at = "a flood of channel names";
      const flood = 40;
      for (let i = 0; i < flood; i++) {
        await js.publish(
          feedSubject("fz", `flood${i}`),
          frameBytes({ env: { id: `flood-${i}` }, body: goodBody(`flood${i}`, 0) }),
        );
      }
      await good();
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const figure = (name: string) =>
        Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, "m").exec(metrics)?.[1]);
      assert.is(figure("troupe_channels"), CHANNELS_MAX, metrics);
      assert.is(figure("troupe_channels_max"), CHANNELS_MAX);
      assert.is(figure("troupe_channels_free"), 0);
      assert.ok(figure("troupe_channel_frames_refused_total") >= flood - CHANNELS_MAX, metrics);
      assert.ok(
        dead.some((d) =>
          /oversize.*over this host's limit of 12 channels \(limits\.channels_max;/.test(d.text)
        ),
      );
      assert.match(metrics, /troupe_control_refused_total\{kind="anomaly"[^}]*\} [1-9]/);
      assert.match(metrics, /troupe_control_refused_total\{kind="unknown"[^}]*\} 1$/m);
      // Killed and started again on the same directory: it recovers what it journaled.
      at = "the restart";
      host!.signal("SIGKILL");
      await host!.exited;
      await start();
      await healthy();
      await good();
      console.log(
        `  edge fuzz: ${all.length} cases and a flood of ${flood} channels, ${dead.length} dead letters`,
      );
      host!.signal("SIGTERM");
      assert.is(await host!.exitCode(), 0, host!.output());
      host = undefined;
    } finally {
      host?.signal("SIGKILL");
      await host?.exited;
      await nc.close();
      await nats.cleanup();
      dir.remove();
    }
  });
}

test.run();
