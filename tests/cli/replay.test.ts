import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeFrame, decodeValue, encodeEnvelope, type Envelope } from "../../protocol/mod.ts";
import { RecordingReader, RecordingWriter } from "../../sim/recording/mod.ts";
import { runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { readRecords } from "../_support/recording.ts";

const test = suite("troupe record and replay");
const dir = tempDir("troupe-replay-cli-");
const hasNats = haveNatsServer("troupe record / replay --nats against nats-server");
let nats: Awaited<ReturnType<typeof startTestNats>> | undefined;
const session = join(dir.path, "session.rec");

test.before(async () => {
  if (hasNats) nats = await startTestNats();
  // A session recorded from its start by troupe up on the in-process bus.
  const up = await runTroupe([
    "up",
    "--no-nats",
    "--duration",
    "1.5",
    "--rate",
    "8000",
    "--channels",
    "4",
    "--data-dir",
    join(dir.path, "up"),
    "--http-port",
    "0",
    "--record",
    session,
  ]);
  if (up.code !== 0) throw new Error(`troupe up --record failed:\n${up.stdout}\n${up.stderr}`);
});
test.after(async () => {
  await nats?.cleanup();
  dir.remove();
});

test("troupe up --record writes a recording that troupe replay --verify reproduces byte for byte", async () => {
  const recs = await readRecords(session);
  const outputs = recs.filter((m) => m.subject.startsWith("troupe.out."));
  assert.ok(
    outputs.filter((m) => m.subject.startsWith("troupe.out.stats.")).length >= 4,
    "stats outputs recorded",
  );
  const r = await runTroupe(["replay", session, "--verify"]);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stderr, "recorded by troupe up on in-process");
  assert.match(r.stdout, `verified: ${outputs.length} outputs equal to the recorded ones`);
});

test("troupe replay exits 1 naming the first output that differs", async () => {
  const recs = await readRecords(session);
  const target = recs.find((m) => m.subject.startsWith("troupe.out.stats."))!;
  const reader = await RecordingReader.open(session);
  const path = join(dir.path, "tampered.rec");
  const w = RecordingWriter.create(path, reader.header);
  for (const m of recs) {
    let data = m.data;
    if (m.index === target.index) {
      const env = decodeValue(m.data) as Envelope<Record<string, number>>;
      data = encodeEnvelope({ ...env, body: { ...env.body, max: 1e9 } });
    }
    w.append(m.subject, m.tUs, data, m.headers);
  }
  w.close();
  const r = await runTroupe(["replay", path, "--verify"]);
  assert.is(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, `MISMATCH: output 0 on ${target.subject} differs`);
  assert.match(r.stdout, (decodeValue(target.data) as Envelope).id);
  assert.match(r.stdout, "body.max: recorded 1000000000, replayed");
});

test("troupe replay of a truncated recording replays what is complete and says where it was cut", async () => {
  const recs = await readRecords(session);
  const cut = recs[Math.floor(recs.length / 2)]!;
  const path = join(dir.path, "cut.rec");
  writeFileSync(path, readFileSync(session).subarray(0, cut.offset + 5));
  const r = await runTroupe(["replay", path, "--verify"]);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, `cut at byte ${cut.offset} after ${cut.index} complete records`);
  assert.match(r.stdout, "verified");
});

test("troupe replay refuses another format version naming both, and bad options with exit 2", async () => {
  const bytes = readFileSync(session);
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(8, 3, true);
  const v3 = join(dir.path, "v3.rec");
  writeFileSync(v3, bytes);
  const r = await runTroupe(["replay", v3]);
  assert.is(r.code, 1);
  assert.match(r.stderr, "format version 3");
  assert.match(r.stderr, "reads format version 2");
  const cases: Array<[string[], string]> = [
    [[session, "--speed", "-2"], '"-2"'],
    [[session, "--from", "yesterday"], '"yesterday"'],
    [[session, "--inspect", "stats"], '"stats"'],
  ];
  const results = await Promise.all(cases.map(([args]) => runTroupe(["replay", ...args])));
  cases.forEach(([args, text], i) => {
    const u = results[i]!;
    assert.is(u.code, 2, `${args.join(" ")}: ${u.stderr}`);
    assert.match(u.stderr, text);
  });
});

test("troupe replay --inspect prints an actor's state at the end of the range", async () => {
  const r = await runTroupe([
    "replay",
    session,
    "--inspect",
    "stats/SYM002",
    "--json",
    "--verify",
    "--speed",
    "50",
  ]);
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    ok: boolean;
    kinds: string[];
    verify: { ok: boolean; equal: number };
    inspect: { machine: { value: string; context: { key: string } }; kernel: number[] };
  };
  assert.is(out.ok, true);
  const header = (await RecordingReader.open(session)).header;
  assert.equal(out.kinds, Object.keys(header.config!.actors!));
  assert.ok(out.kinds.includes("stats"));
  assert.ok(out.verify.equal > 0);
  assert.is(out.inspect.machine.context.key, "SYM002");
  assert.is(out.inspect.machine.value, "live");
  const frames = (await readRecords(session)).filter((m) =>
    m.subject === "troupe.feed.market.SYM002"
  );
  const samples = frames.reduce((a, m) => a + decodeFrame(m.data).frame.v.length, 0);
  assert.is(out.inspect.kernel[0], samples);
});

test("troupe record captures a live session from NATS; replay --nats feeds a live cluster and verifies it", async () => {
  if (!nats) return;
  const path = join(dir.path, "live.rec");
  const rec = startTroupe(["record", "--out", path, "--nats", nats.url]);
  await rec.waitFor("Ctrl-C to stop");
  const inj = await runTroupe([
    "inject",
    "--channels",
    "2",
    "--rate",
    "4000",
    "--duration",
    "0.5",
    "--nats",
    nats.url,
  ]);
  assert.is(inj.code, 0, inj.stderr);
  await new Promise((r) => setTimeout(r, 200));
  rec.signal("SIGINT");
  assert.is(await rec.exited, 0, rec.output());
  assert.match(rec.output(), "20 messages (feed 20)");
  const header = (await RecordingReader.open(path)).header;
  assert.is(header.source, "troupe record");
  assert.is(header.bus, nats.url);
  // Feeds only, no configuration: nothing to verify against, but it replays through every kind.
  const nothing = await runTroupe(["replay", path, "--verify"]);
  assert.is(nothing.code, 1);
  assert.match(nothing.stderr, "no actor outputs");

  // Replay troupe up's session into a fresh host on NATS, and verify what it publishes.
  const config = join(dir.path, "run.json");
  const { actors } = (await RecordingReader.open(session)).header.config!;
  writeFileSync(config, JSON.stringify({ actors }));
  const host = startTroupe([
    "run",
    "--config",
    config,
    "--nats",
    nats.url,
    "--data-dir",
    join(dir.path, "run"),
  ]);
  try {
    await host.waitFor("troupe run: host");
    const r = await runTroupe([
      "replay",
      session,
      "--nats",
      nats.url,
      "--verify",
      "--speed",
      "max",
    ]);
    assert.is(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, "verified");
  } finally {
    host.signal("SIGTERM");
    await host.exited;
  }
});

test.run();
