/**
 * The bar of troupe as a library, as a user meets it: troupe packed (`npm pack`) and installed into
 * a fresh project outside the repository, an actor kind written there in TypeScript against
 * `troupe`, run by the installed `troupe run` against a real nats-server with JetStream input,
 * killed with SIGKILL while a feed runs and started again, the session recorded by the installed
 * `troupe record`, and `troupe replay --verify`d. On the runtime the tests run on (Node, or Deno
 * running the installed package).
 *
 * Nothing lost, nothing doubled: the kind counts and sums each channel's samples and publishes a
 * mark every EVERY samples, so every mark says how many samples were applied before it and their
 * sum. The recording's feed gives what the marks must be; a lost frame or a frame applied twice
 * moves every later one.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { decodeEnvelope, decodeFrame, parseSubject } from "../../protocol/mod.ts";
import { ROOT } from "../_support/cli.ts";
import { haveNatsServer, startTestNats } from "../_support/nats.ts";
import { packedProject } from "../_support/packed_troupe.ts";
import { readRecords } from "../_support/recording.ts";

const test = suite("installed package");
const EVERY = 50;
const isDeno = process.env.TROUPE_TEST_RUNTIME === "deno";

const TALLY = `import { defineKind, type Finding } from "troupe";

interface Tally { n: number; sum: number }

export const tally = defineKind({
  kind: "tally",
  version: 1,
  config: { every: { type: "number", default: ${EVERY}, min: 1, integer: true } },
  findings: [{ type: "tally_mark", measure: "n", edges: [1e9, 2e9, 3e9, 4e9], unit: "samples" }],
  kernel: {
    init: (): Tally & { every: number } => ({ n: 0, sum: 0, every: ${EVERY} }),
    configure: (s, config) => { s.every = config.every; },
    step(s, frame) {
      const findings: Finding[] = [];
      for (let i = 0; i < frame.v.length; i++) {
        s.n++;
        s.sum += frame.v[i]!;
        if (s.n % s.every === 0) {
          findings.push({ type: "tally_mark", ts: frame.t[i]!, channel: frame.channel, n: s.n, sum: s.sum });
        }
      }
      return { findings };
    },
    save: (s) => new Uint8Array(new Float64Array([s.n, s.sum, s.every]).buffer),
    load: (b) => {
      const [n, sum, every] = new Float64Array(b.slice().buffer);
      return { n: n!, sum: sum!, every: every! };
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
    // Settle: the marks stop changing once the host has caught up with the stream.
    await new Promise((r) => setTimeout(r, 2500));
    host.signal("SIGINT");
    assert.is(await host.exited, 0, host.output());
    recorder.signal("SIGINT");
    assert.is(await recorder.exited, 0, recorder.output());

    const records = await readRecords(rec);
    const sums = new Map<string, { n: number; sum: number }>();
    const expected = new Map<string, string>();
    for (const m of records) {
      const s = parseSubject(m.subject);
      if (s?.kind !== "feed") continue;
      const { frame } = decodeFrame(m.data);
      const acc = sums.get(frame.channel) ?? { n: 0, sum: 0 };
      for (const x of frame.v) {
        acc.n++;
        acc.sum += x;
        if (acc.n % EVERY === 0) expected.set(`${frame.channel}:${acc.n}`, String(acc.sum));
      }
      sums.set(frame.channel, acc);
    }
    const seen = new Map<string, string>();
    for (const m of records) {
      if (!m.subject.startsWith("troupe.out.tally.")) continue;
      const env = decodeEnvelope(m.data);
      const b = env.body as { channel: string; n: number; sum: number };
      const key = `${b.channel}:${b.n}`;
      const had = seen.get(key);
      assert.ok(
        had === undefined || had === String(b.sum),
        `mark ${key} published twice, differing`,
      );
      seen.set(key, String(b.sum));
    }
    assert.ok(expected.size >= 100, `only ${expected.size} marks expected`);
    assert.equal([...seen.keys()].sort(), [...expected.keys()].sort(), "every mark, once");
    for (const [k, sum] of expected) assert.is(seen.get(k), sum, `mark ${k}`);

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
      } s, whole test ${((performance.now() - t0) / 1000).toFixed(1)} s, ${expected.size} marks`,
    );
  } finally {
    await nats.cleanup();
    removeWork();
  }
});

test.run();
