import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { join } from "node:path";
import {
  decodeEnvelope,
  decodeFrame,
  decodeValue,
  encodeEnvelope,
  type Envelope,
  findingOutputSubject,
} from "../../protocol/mod.ts";
import { Prng } from "../../sim/prng/mod.ts";
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
/** An actor's output: on its kind's subject, or a finding on its own. */
function isOutput(m: { subject: string }): boolean {
  return m.subject.startsWith("troupe.out.") || findingOutputSubject(m.subject) !== undefined;
}

test.after(async () => {
  await nats?.cleanup();
  dir.remove();
});

test("troupe up --record writes a recording that troupe replay --verify reproduces byte for byte", async () => {
  const recs = await readRecords(session);
  const outputs = recs.filter(isOutput);
  assert.ok(
    outputs.filter((m) => m.subject.startsWith("troupe.out.stats.")).length >= 4,
    "stats outputs recorded",
  );
  const r = await runTroupe(["replay", session, "--verify"]);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stderr, "recorded by troupe up on in-process");
  assert.match(r.stdout, `verified: ${outputs.length} outputs equal to the recorded ones`);
});

test("--config with --verify is a what-if: per kind, the events that appeared and disappeared", async () => {
  const recs = await readRecords(session);
  const recordedStats =
    recs.filter((m) =>
      m.subject.startsWith("troupe.out.stats.") && decodeEnvelope(m.data).type === "stats"
    ).length;
  const same = join(dir.path, "same.json");
  writeFileSync(same, JSON.stringify({ stats: { every_samples: 1000 } }));
  const unchanged = await runTroupe(["replay", session, "--config", same, "--verify"]);
  assert.is(unchanged.code, 0, unchanged.stdout + unchanged.stderr);
  assert.match(unchanged.stdout, "what-if: the new settings change no output");
  const path = join(dir.path, "often.json");
  writeFileSync(path, JSON.stringify({ stats: { every_samples: 250 } }));
  const r = await runTroupe(["replay", session, "--config", path, "--verify"]);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.not.match(r.stdout, "MISMATCH");
  const line = r.stdout.split("\n").find((l) => l.startsWith("  stats: events"))!;
  assert.ok(line, r.stdout);
  // Every 250 samples instead of every 1,000: the publications at multiples of 1,000 stay, at the
  // same samples (their figures may differ in the last bits: merged from four blocks instead of
  // one), and three in four appear.
  const m = line.match(
    /events (\d+) -> (\d+): (\d+) appeared, (\d+) disappeared, (\d+) changed, (\d+) the same/,
  );
  assert.ok(m, line);
  const [recorded, replayed, appeared, disappeared, changed, sameCount] = m!.slice(1).map(Number);
  assert.is(recorded, recordedStats);
  assert.ok(replayed! >= 3 * recorded!, line);
  assert.is(disappeared, 0, line);
  assert.is(changed! + sameCount!, recorded, line);
  assert.is(appeared, replayed! - recorded!);
  assert.match(r.stdout, /^ {4}\+ stats SYM00\d at 20\d\d-/m);
  // The other kinds did not change.
  for (const kind of ["anomaly", "collapse", "coherence", "bars"]) {
    const k = r.stdout.split("\n").find((l) => l.startsWith(`  ${kind}: `))!;
    assert.match(k, " 0 changed", k);
    assert.match(k, "0 appeared, 0 disappeared", k);
  }
  const json = await runTroupe(["replay", session, "--config", path, "--verify", "--json"]);
  const out = JSON.parse(json.stdout) as { what_if: { same: boolean; kinds: { kind: string }[] } };
  assert.is(out.what_if.same, false);
  // Every kind replayed, by name.
  const header = (await RecordingReader.open(session)).header;
  assert.equal(
    out.what_if.kinds.map((k) => k.kind),
    Object.keys(header.config!.actors!).sort(),
  );
});

test("--from past the end of the recording says so (exit 2)", async () => {
  const r = await runTroupe(["replay", session, "--from", "1h"]);
  assert.is(r.code, 2, r.stdout + r.stderr);
  assert.match(
    r.stderr,
    `troupe replay: --from 1h is past the end of ${session}: its last record is at`,
  );
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

test("troupe replay --verify of a recording with no outputs exits 0 but warns that it compared nothing", async () => {
  // What `troupe record` writes where nothing runs: its header and no message.
  const reader = await RecordingReader.open(session);
  const path = join(dir.path, "empty.rec");
  RecordingWriter.create(path, reader.header).close();
  const r = await runTroupe(["replay", path, "--verify"]);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, "verified: 0 outputs");
  assert.match(
    r.stderr,
    `troupe replay: WARNING: nothing was verified: ${path} holds no outputs to compare ` +
      "(0 inputs replayed)",
  );
  const whole = await runTroupe(["replay", session, "--verify"]);
  assert.is(whole.code, 0, whole.stdout + whole.stderr);
  assert.not.match(whole.stderr, "WARNING", whole.stderr);
});

test("troupe replay of a truncated recording replays what is complete and says where it was cut; --verify --accept-unclosed verifies it, saying so", async () => {
  const recs = await readRecords(session);
  const cut = recs[Math.floor(recs.length / 2)]!;
  const path = join(dir.path, "cut.rec");
  writeFileSync(path, readFileSync(session).subarray(0, cut.offset + 5));
  const plain = await runTroupe(["replay", path]);
  assert.is(plain.code, 0, plain.stdout + plain.stderr);
  assert.match(plain.stdout, `cut at byte ${cut.offset} after ${cut.index} complete records`);
  assert.match(plain.stdout, "not closed by its writer");
  const r = await runTroupe(["replay", path, "--verify", "--accept-unclosed"]);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, `cut at byte ${cut.offset} after ${cut.index} complete records`);
  assert.match(
    r.stdout,
    `ACCEPTED UNCLOSED: the recording has no trailer (its writer died, or the file was cut): ` +
      `verifying what it holds, ${cut.index.toLocaleString("en-US")} records in ${
        cut.offset.toLocaleString("en-US")
      } bytes`,
  );
  assert.match(r.stdout, "troupe replay: verified:");
  const usage = await runTroupe(["replay", path, "--accept-unclosed"]);
  assert.is(usage.code, 2, usage.stderr);
  assert.match(usage.stderr, "--accept-unclosed needs --verify");
});

test("troupe replay --verify fails on a recording cut at any of 20 random points, naming how much it held; the whole one passes", async () => {
  const seed = Number(process.env.TROUPE_TEST_SEED ?? Date.now() % 1_000_000);
  const prng = new Prng(seed);
  const whole = readFileSync(session);
  const reader = await RecordingReader.open(session);
  const recs = await readRecords(session);
  for await (const _ of reader.batches()) { /* to the trailer */ }
  assert.ok(reader.trailer, "troupe up --record closed the recording with a trailer");
  const ends = recs.map((_, i) =>
    i + 1 < recs.length ? recs[i + 1]!.offset : reader.trailer!.bytes
  );
  // 20 random cuts past the header, and the cut a byte count can hide: every record, no trailer.
  const cuts = Array.from(
    { length: 20 },
    () => reader.headerBytes + prng.int(whole.byteLength - reader.headerBytes),
  );
  cuts.push(reader.trailer.bytes);
  for (let i = 0; i < cuts.length; i += 4) {
    const batch = cuts.slice(i, i + 4);
    const results = await Promise.all(batch.map((at) => {
      const path = join(dir.path, `cut-${at}.rec`);
      writeFileSync(path, whole.subarray(0, at));
      return runTroupe(["replay", path, "--verify"]);
    }));
    batch.forEach((at, j) => {
      const r = results[j]!;
      const held = ends.filter((end) => end <= at).length;
      const bytes = held === 0 ? reader.headerBytes : ends[held - 1]!;
      const why = `seed ${seed}, cut at byte ${at} of ${whole.byteLength}: ${r.stdout}${r.stderr}`;
      assert.is(r.code, 1, why);
      assert.not.match(r.stdout, "troupe replay: verified:", why);
      assert.match(
        r.stdout,
        `NOT VERIFIED: the recording was not closed by its writer (no trailer): it holds ${
          held.toLocaleString("en-US")
        } records in ${bytes.toLocaleString("en-US")} bytes`,
        why,
      );
    });
  }
  const r = await runTroupe(["replay", session, "--verify"]);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.not.match(r.stdout, "closed by its writer");
});

test("troupe replay --verify fails on a recording damaged mid-file or in its first record, saying how much it did not read", async () => {
  const recs = await readRecords(session);
  const whole = readFileSync(session);
  const outputsAfter = (i: number) => recs.slice(i + 1).filter(isOutput).length;
  const middle = Math.floor(recs.length / 2);
  const cases: Array<[string, number]> = [["mid-file", middle], ["first record", 0]];
  for (const [what, i] of cases) {
    const bytes = Buffer.from(whole);
    const at = recs[i]!.offset + 12; // 8 bytes inside the record's body: its CRC no longer holds
    for (let k = 0; k < 8; k++) bytes[at + k]! ^= 0x5a;
    const path = join(dir.path, `damaged-${i}.rec`);
    writeFileSync(path, bytes);
    const r = await runTroupe(["replay", path, "--verify"]);
    assert.is(r.code, 1, `${what}: ${r.stdout}${r.stderr}`);
    assert.not.match(r.stdout, "troupe replay: verified:");
    assert.match(
      r.stdout,
      `NOT VERIFIED: the recording is damaged at byte ${
        recs[i]!.offset
      } (record ${i}'s checksum does not match): ${
        (recs.length - i - 1).toLocaleString("en-US")
      } intact records after it were not read, ${
        outputsAfter(i).toLocaleString("en-US")
      } of them outputs not compared`,
    );
  }
});

test("troupe replay refuses another format version naming both, and bad options with exit 2", async () => {
  const bytes = readFileSync(session);
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(8, 7, true);
  const v7 = join(dir.path, "v7.rec");
  writeFileSync(v7, bytes);
  const r = await runTroupe(["replay", v7]);
  assert.is(r.code, 1);
  assert.match(r.stderr, "format version 7");
  assert.match(r.stderr, "reads format version 2 or 3");
  const cases: Array<[string[], string]> = [
    [[session, "--speed", "-2"], '"-2"'],
    [[session, "--from", "yesterday"], '"yesterday"'],
    [[session, "--inspect", "stats"], '"stats"'],
    [[session, "--inspect", "stat/SYM001"], 'Option --inspect names unknown actor kind "stat"'],
    [[session, "--actors", "stats,nope"], 'Option --actors names unknown actor kind "nope"'],
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
    inspect: {
      machine: { value: string; context: { key: string } };
      kernel: Record<string, number>;
    };
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
  // The kernel's fields by name, not a bare array.
  assert.is(out.inspect.kernel.count, samples);
  assert.is(out.inspect.kernel.every_samples, 1000);
  assert.ok(out.inspect.kernel.mean! > 0 && out.inspect.kernel.min! <= out.inspect.kernel.max!);
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
