import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { NatsBus } from "../../actors/runtime/transport/nats_bus.ts";
import { decodeFrame } from "../../protocol/mod.ts";
import type { GroundTruth } from "../../sim/feeds/mod.ts";
import { runTroupe, startTroupe } from "../_support/cli.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";

const test = suite("troupe inject");
const hasNats = haveNatsServer("troupe inject against nats-server");
let nats: Awaited<ReturnType<typeof startTestNats>> | undefined;
const dir = tempDir("troupe-inject-cli-");

test.before(async () => {
  if (hasNats) nats = await startTestNats();
});
test.after(async () => {
  await nats?.cleanup();
  dir.remove();
});

/** Collects the frames published on troupe.feed.> while `body` runs. */
async function collectFrames<T>(body: () => Promise<T>) {
  const bus = await NatsBus.connect(nats!.url);
  const frames: Array<{ subject: string; channel: string; samples: number; seq0: number }> = [];
  bus.subscribe("troupe.feed.>", (msg) => {
    const { frame } = decodeFrame(msg.data);
    frames.push({
      subject: msg.subject,
      channel: frame.channel,
      samples: frame.v.length,
      seq0: frame.seq0,
    });
  });
  await bus.flush();
  try {
    const result = await body();
    await new Promise((r) => setTimeout(r, 100)); // the last frames are in flight
    await bus.flush();
    return { result, frames };
  } finally {
    await bus.close();
  }
}

test("troupe inject rejects --rate 0, negative durations, unknown feeds and bad options with exit 2, naming the value", async () => {
  const cases: Array<[string[], string[]]> = [
    [["--rate", "0"], ["--rate", '"0"']],
    [["--duration", "-5"], ["--duration", '"-5"']],
    [["--duration=-0.5"], ["--duration", '"-0.5"']],
    [["--feed", "stocks"], ['"stocks"', "market, metrics, csv:PATH"]],
    [["--feed", "csv:"], ["csv:PATH"]],
    [["--feed", "metrics", "--channels", "0"], ["--channels", '"0"']],
    [["--batch", "many"], ["--batch", '"many"']],
    [["--feed", "csv:/no/such/file.csv"], ["--feed csv:/no/such/file.csv", "ENOENT"]],
    [["--feed-name", "a.b"], ["--feed-name", '"a.b"']],
  ];
  // Four at a time: each is a process start.
  for (let i = 0; i < cases.length; i += 4) {
    const batch = cases.slice(i, i + 4);
    const results = await Promise.all(
      batch.map(([args]) => runTroupe(["inject", ...args, "--nats", "nats://127.0.0.1:1"])),
    );
    batch.forEach(([args, expected], j) => {
      const r = results[j]!;
      assert.is(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      for (const text of expected) assert.match(r.stderr, text, `${args.join(" ")}`);
      assert.match(r.stderr, "Run troupe inject --help for its options.");
      assert.is(r.stderr.trim().split("\n").length, 2, r.stderr);
    });
  }
});

test("troupe inject says clearly that NATS is unreachable and exits 1", async () => {
  const r = await runTroupe(["inject", "--duration", "1", "--nats", "nats://127.0.0.1:1"]);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, "cannot connect to NATS at nats://127.0.0.1:1");
  assert.match(r.stderr, "nats-server");
});

test("troupe inject publishes rate × duration samples, reports the rate achieved and writes the labels", async () => {
  if (!nats) return;
  const labels = join(dir.path, "truth.json");
  const { result: r, frames } = await collectFrames(() =>
    runTroupe([
      "inject",
      "--feed",
      "market",
      "--channels",
      "3",
      "--rate",
      "20000",
      "--duration",
      "1",
      "--batch",
      "50",
      "--seed",
      "7",
      "--labels",
      labels,
      "--nats",
      nats!.url,
    ])
  );
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /20000 samples in 400 frames/);
  const m = r.stdout.match(/(\d+) samples\/s achieved, 20000 asked \(([\d.]+)%\)/);
  assert.ok(m, r.stdout);
  assert.ok(Number(m![2]) > 90 && Number(m![2]) <= 101, r.stdout);
  assert.is(frames.length, 400);
  assert.is(frames.reduce((a, f) => a + f.samples, 0), 20_000);
  const channels = [...new Set(frames.map((f) => f.channel))].sort();
  // --channels 3 gives 3 channels, as troupe up does: the symbols' prices.
  assert.equal(channels, ["SYM001", "SYM002", "SYM003"]);
  assert.ok(
    frames.every((f) => f.subject === `troupe.feed.market.${f.channel}` && f.samples === 50),
  );
  // Each channel's frames continue one another.
  const sym1 = frames.filter((f) => f.channel === "SYM001").map((f) => f.seq0);
  assert.equal(sym1, sym1.map((_, i) => i * 50));
  const truth = JSON.parse(readFileSync(labels, "utf8")) as GroundTruth;
  assert.is(truth.feed, "market");
  assert.equal([...truth.channels].sort(), channels);
  assert.is(truth.options.seed, 7);
  assert.is(truth.options.symbols, 3);
  assert.ok(truth.samples >= 20_000 / 3, `labels cover ${truth.samples} samples per channel`);
  assert.ok(truth.regimes.length >= 1);
});

test("troupe inject --json prints the result; --feed-name changes the subjects", async () => {
  if (!nats) return;
  const { result: r, frames } = await collectFrames(() =>
    runTroupe([
      "inject",
      "--feed",
      "metrics",
      "--channels",
      "2",
      "--rate",
      "4000",
      "--duration",
      "0.5",
      "--feed-name",
      "lab",
      "--json",
      "--nats",
      nats!.url,
    ])
  );
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.is(out.samples, 2000);
  assert.is(out.asked_per_s, 4000);
  assert.is(out.subjects, "troupe.feed.lab.*");
  assert.is(out.stopped, "duration");
  assert.ok((out.achieved_over_asked as number) > 0.9);
  assert.is(frames.length, 20);
  assert.ok(frames.every((f) => f.subject.startsWith("troupe.feed.lab.")));
});

test("troupe inject plays a CSV file to its end, naming each bad row by line and keeping the good ones", async () => {
  if (!nats) return;
  const csv = join(dir.path, "cpu.csv");
  const rows = ["timestamp,value"];
  for (let i = 0; i < 30; i++) rows.push(`2024-01-01 00:${String(i).padStart(2, "0")}:00,${i}`);
  rows[5] = "2024-01-01 00:04:00,abc";
  writeFileSync(csv, rows.join("\n") + "\n");
  const { result: r, frames } = await collectFrames(() =>
    runTroupe([
      "inject",
      "--feed",
      `csv:${csv}`,
      "--rate",
      "1000",
      "--batch",
      "10",
      "--nats",
      nats!.url,
    ])
  );
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, "1 bad rows skipped");
  assert.match(r.stderr, "line 6");
  assert.match(r.stdout, "end of the file");
  assert.is(frames.reduce((a, f) => a + f.samples, 0), 29);
  assert.ok(frames.every((f) => f.channel === "cpu"));
});

test("troupe inject --feed csv:- sends rows as they arrive on the standard input, not at its end", async () => {
  if (!nats) return;
  const seen: Array<{ seq0: number; t: number[]; v: number[] }> = [];
  const bus = await NatsBus.connect(nats.url);
  bus.subscribe("troupe.feed.csv.cpu", (msg) => {
    const { frame } = decodeFrame(msg.data);
    seen.push({ seq0: frame.seq0, t: [...frame.t], v: [...frame.v] });
  });
  await bus.flush();
  const inj = startTroupe(
    ["inject", "--feed", "csv:-", "--channel", "cpu", "--nats", nats.url],
    undefined,
    { stdin: true },
  );
  const stdin = inj.child.stdin!;
  try {
    stdin.write("timestamp,value\n2014-07-01 00:00:00,10\n2014-07-01 00:05:00,11\n");
    // The writer is still open: the rows go out after a pause, not at the end of the input.
    const t0 = Date.now();
    while (seen.length === 0 && Date.now() - t0 < 10_000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(seen.map((f) => [f.seq0, f.v]), [[0, [10, 11]]], inj.output());
    assert.is(seen[0]!.t[0], Date.UTC(2014, 6, 1) * 1000);
    stdin.write("2014-07-01 00:10:00,12\nnot a row\n2014-07-01 00:15:");
    stdin.end("00,13\n");
    assert.is(await inj.exitCode(), 0, inj.output());
    await new Promise((r) => setTimeout(r, 100));
    await bus.flush();
    assert.equal(seen.map((f) => [f.seq0, f.v]), [[0, [10, 11]], [2, [12, 13]]], inj.output());
    assert.match(inj.output(), /end of the file: 4 samples in 2 frames/);
    assert.match(
      inj.output(),
      /-: 1 bad rows skipped, good rows kept:\n {2}line 5: expected 2 fields/,
    );
  } finally {
    inj.signal("SIGKILL");
    await bus.close();
  }
});

test("troupe inject stops on SIGINT, writes the labels of what it sent and exits 0", async () => {
  if (!nats) return;
  const labels = join(dir.path, "stopped.json");
  const p = startTroupe([
    "inject",
    "--rate",
    "5000",
    "--channels",
    "2",
    "--labels",
    labels,
    "--nats",
    nats.url,
  ]);
  await p.waitFor("Ctrl-C to stop");
  await new Promise((r) => setTimeout(r, 500));
  p.signal("SIGINT");
  const code = await p.exited;
  assert.is(code, 0, p.output());
  assert.match(p.output(), "stopped by SIGINT");
  const sent = Number(p.output().match(/: (\d+) samples in/)![1]);
  assert.ok(sent > 0);
  const truth = JSON.parse(readFileSync(labels, "utf8")) as GroundTruth;
  assert.is(truth.samples * truth.channels.length >= sent, true);
});

test.run();
