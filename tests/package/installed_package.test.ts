/**
 * The bar of troupe as a library, as a user meets it: troupe packed (`npm pack`) and installed into
 * a fresh project outside the repository, an actor kind written there in TypeScript against
 * `troupe`, run by the installed `troupe run` against a real nats-server with JetStream input,
 * killed with SIGKILL while a feed runs and started again, the session recorded by the installed
 * `troupe record`, and `troupe replay --verify`d. On the runtime the tests run on (Node, or Deno
 * running the installed package).
 *
 * Nothing lost, nothing doubled: the kind counts and sums each channel's samples and publishes,
 * per sample, how many were applied up to it and their sum. The recording's feed gives what each
 * must be; a lost frame or a frame applied twice moves every later one.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import process from "node:process";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { decodeColumns, decodeFrame, parseSubject } from "../../protocol/mod.ts";
import { ROOT } from "../_support/cli.ts";
import { haveNatsServer, startTestNats } from "../_support/nats.ts";
import { packedProject } from "../_support/packed_troupe.ts";
import { readRecords } from "../_support/recording.ts";

const test = suite("installed package");
const isDeno = process.env.TROUPE_TEST_RUNTIME === "deno";

const TALLY = `import { defineKind } from "troupe";

interface Tally { n: number; sum: number }

// Per sample, how many samples of its channel were applied up to it and their sum.
export const tally = defineKind({
  kind: "tally",
  version: 1,
  config: {},
  findings: [],
  outputs: ["n", "sum"],
  kernel: {
    init: (): Tally => ({ n: 0, sum: 0 }),
    step(s, frame) {
      const n = new Float64Array(frame.v.length), sum = new Float64Array(frame.v.length);
      for (let i = 0; i < frame.v.length; i++) {
        n[i] = ++s.n;
        sum[i] = s.sum += frame.v[i]!;
      }
      return { columns: { n, sum } };
    },
    save: (s) => new Uint8Array(new Float64Array([s.n, s.sum]).buffer),
    load: (b) => {
      const [n, sum] = new Float64Array(b.slice().buffer);
      return { n: n!, sum: sum! };
    },
  },
});
`;

/** The installed `troupe` on this runtime, in the project. */
function installedTroupe(project: string, args: string[]): [string, string[]] {
  const pkg = join(project, "node_modules", "troupe");
  return isDeno
    ? [join(ROOT, "node_modules/.bin/deno"), [
      "run",
      "-A",
      "--quiet",
      join(pkg, "dist/cli/main.js"),
      ...args,
    ]]
    : [process.execPath, [join(pkg, "cli/troupe.mjs"), ...args]];
}

interface Child {
  output(): string;
  waitFor(text: string, ms?: number): Promise<void>;
  signal(name: "SIGINT" | "SIGKILL"): void;
  exited: Promise<number | null>;
}

/** Runs the installed troupe from `cwd`, a folder in the project. */
function start(cwd: string, args: string[]): Child {
  const [cmd, argv] = installedTroupe(projectOf(cwd), args);
  const child = spawn(cmd, argv, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  return {
    output: () => out,
    exited,
    signal(name) {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, name);
    },
    async waitFor(text, ms = 60_000) {
      const t0 = Date.now();
      while (!out.includes(text)) {
        if (Date.now() - t0 > ms) throw new Error(`Timed out waiting for "${text}" in:\n${out}`);
        if (child.exitCode !== null) throw new Error(`exited before "${text}":\n${out}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

/** The project a run folder is in. */
function projectOf(cwd: string): string {
  return dirname(cwd);
}

async function run(cwd: string, args: string[]) {
  const c = start(cwd, args);
  const code = await c.exited;
  return { code, output: c.output() };
}

test("a user's kind, from the packed troupe: run, kill -9 under load, record, replay --verify", async () => {
  if (!haveNatsServer("installed package")) return;
  const t0 = performance.now();
  const { dir: project, setupS } = await packedProject();
  const nats = await startTestNats();
  // A folder of this run's inside the project (the other runtime's test shares the project).
  const work = { path: mkdtempSync(join(project, `run-${isDeno ? "deno" : "node"}-`)) };
  const removeWork = () => rmSync(work.path, { recursive: true, force: true });
  try {
    mkdirSync(join(work.path, "actors"));
    writeFileSync(join(work.path, "actors", "tally.ts"), TALLY);
    const off = Object.fromEntries(
      ["stats", "anomaly", "collapse", "coherence", "bars"].map((k) => [k, { enabled: false }]),
    );
    const config = join(work.path, "host.json");
    writeFileSync(
      config,
      JSON.stringify({
        host_id: "user-1",
        nats: nats.url,
        input: "jetstream",
        data_dir: join(work.path, "data"),
        snapshots: { store: "file", every_inputs: 20, every_ms: 200 },
        kinds: ["./actors/tally.ts"],
        actors: { ...off, tally: {} },
      }),
    );
    const rec = join(work.path, "session.rec");
    const recorder = start(work.path, [
      "record",
      "--out",
      rec,
      "--nats",
      nats.url,
      "--config",
      config,
    ]);
    await recorder.waitFor("Ctrl-C to stop");
    let host = start(work.path, ["run", "--config", config]);
    await host.waitFor("troupe run: host user-1 running");
    assert.match(host.output(), "tally");
    const inject = start(work.path, [
      "inject",
      "--feed",
      "metrics",
      "--channels",
      "4",
      "--rate",
      "4000",
      "--duration",
      "4",
      "--nats",
      nats.url,
      "--seed",
      "7",
    ]);
    await new Promise((r) => setTimeout(r, 1500));
    host.signal("SIGKILL");
    await host.exited;
    host = start(work.path, ["run", "--config", config]);
    await host.waitFor("troupe run: host user-1 running");
    assert.is(await inject.exited, 0, inject.output());
    // Settle: the host catches up with the stream.
    await new Promise((r) => setTimeout(r, 2500));
    host.signal("SIGINT");
    assert.is(await host.exited, 0, host.output());
    recorder.signal("SIGINT");
    assert.is(await recorder.exited, 0, recorder.output());

    const records = await readRecords(rec);
    // What every sample's (n, sum) must be, from the recorded feed.
    const expected = new Map<string, string>();
    const acc = new Map<string, { n: number; sum: number }>();
    for (const m of records) {
      if (parseSubject(m.subject)?.kind !== "feed") continue;
      const { frame } = decodeFrame(m.data);
      const a = acc.get(frame.channel) ?? { n: 0, sum: 0 };
      for (const x of frame.v) {
        a.n++;
        a.sum += x;
        expected.set(`${frame.channel}:${a.n}`, String(a.sum));
      }
      acc.set(frame.channel, a);
    }
    // What the host published, once per output id (a restarted host may publish one again).
    const seen = new Map<string, string>();
    const ids = new Set<string>();
    for (const m of records) {
      if (!m.subject.startsWith("troupe.out.tally.")) continue;
      const { envelope, frame } = decodeColumns(m.data);
      if (ids.has(envelope.id)) continue;
      ids.add(envelope.id);
      const n = frame.columns.n!, sum = frame.columns.sum!;
      for (let i = 0; i < n.length; i++) {
        const key = `${frame.channel}:${n[i]}`;
        assert.not.ok(seen.has(key), `sample ${key} applied twice`);
        seen.set(key, String(sum[i]));
      }
    }
    assert.ok(expected.size >= 8000, `only ${expected.size} samples fed`);
    assert.is(seen.size, expected.size, "every sample applied once");
    for (const [k, sum] of expected) assert.is(seen.get(k), sum, `sample ${k}`);

    const replay = await run(work.path, [
      "replay",
      rec,
      "--verify",
      "--kinds",
      "./actors/tally.ts",
    ]);
    assert.is(replay.code, 0, replay.output);
    assert.match(replay.output, "verified");
    console.log(
      `  installed package (${isDeno ? "deno" : "node"}): pack and install ${
        setupS.toFixed(1)
      } s, whole test ${((performance.now() - t0) / 1000).toFixed(1)} s, ${expected.size} samples`,
    );
  } finally {
    await nats.cleanup();
    removeWork();
  }
});

test("the installed package serves the dashboard's prebuilt bundle: nothing is compiled at run time", async () => {
  const { dir: project } = await packedProject();
  const bundle = join(project, "node_modules", "troupe", "dist", "collab", "web", "bundle.js");
  const script = `const { dashboardBundle } = await import(${
    JSON.stringify(pathToFileURL(bundle).href)
  });
const b = await dashboardBundle();
console.log(JSON.stringify({ prebuilt: b.prebuilt, js: b.js.byteLength, worker: b.worker.byteLength }));`;
  const [cmd, argv] = isDeno
    ? [join(ROOT, "node_modules/.bin/deno"), ["eval", "--quiet", script]]
    : [process.execPath, ["--input-type=module", "-e", script]];
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: project, stdio: ["ignore", "pipe", "inherit"] });
    let text = "";
    child.stdout!.on("data", (d) => (text += d));
    child.on("close", (code) => code === 0 ? resolve(text) : reject(new Error(`exit ${code}`)));
  });
  const got = JSON.parse(out) as { prebuilt: boolean; js: number; worker: number };
  assert.is(got.prebuilt, true, out);
  assert.ok(got.js > 50_000 && got.worker > 1_000, out);
});

test("the package leaves the benchmarks out, and its troupe bench says where they run", async () => {
  const { dir: project } = await packedProject();
  const pkg = join(project, "node_modules", "troupe");
  assert.ok(existsSync(join(pkg, "cli", "commands", "bench.ts")), "is the package installed?");
  assert.ok(existsSync(join(pkg, "dist", "cli", "commands", "bench.js")), "is it built?");
  assert.not.ok(existsSync(join(pkg, "bench")), "bench/ is in the package");
  assert.not.ok(existsSync(join(pkg, "dist", "bench")), "dist/bench/ is in the package");
  for (const args of [["bench", "--list"], ["bench", "detect", "--seeds", "1"]]) {
    const [cmd, argv] = installedTroupe(project, args);
    const child = spawn(cmd, argv, { cwd: project, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    const code = await new Promise<number | null>((r) => child.on("close", (c) => r(c)));
    assert.is(code, 1, out);
    assert.match(out, "troupe bench: the benchmarks are not part of the installed package");
    assert.match(out, "run them from a checkout of troupe's repository");
    assert.not.match(out, /\n\s+at /, `a stack trace:\n${out}`);
  }
});

test.run();
