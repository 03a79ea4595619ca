/**
 * `troupe bench latency`, short: a real nats-server, injectors and a host. What is asserted is the
 * shape of what it reports (the loaded row, the stage rows), never a time.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { runTroupe } from "../_support/cli.ts";
import { haveNatsServer } from "../_support/nats.ts";

const test = suite("bench latency");

interface Row {
  metric: string;
  troupe: number;
  baseline: number | null;
  ratio: number | null;
}

if (haveNatsServer("bench latency")) {
  test("bench latency reports the loaded row against raw nats.js, and each stage with --trace-stages", async () => {
    const r = await runTroupe([
      "bench",
      "latency",
      ...["--rounds", "1", "--seconds", "0.3", "--warmup", "0.2", "--rate", "2000"],
      ...["--load-rate", "50000", "--load-channels", "10", "--load-batch", "100"],
      "--trace-stages",
      "--json",
    ], { timeoutMs: 180_000 });
    assert.is(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Row[];
    const metrics = rows.map((x) => x.metric);
    for (const m of ["latency_us_p50_loaded", "latency_us_p99_loaded"]) {
      const row = rows.find((x) => x.metric === m);
      assert.ok(row, `no ${m} in ${metrics.join(", ")}`);
      assert.ok(row.troupe > 0 && row.baseline! > 0, JSON.stringify(row));
    }
    for (const stage of ["nats", "edge", "admission", "journal", "kernel", "machine", "host"]) {
      const row = rows.find((x) => x.metric === `stage_${stage}_us_p99`);
      assert.ok(row && row.troupe >= 0 && row.baseline === null, `stage ${stage}: ${metrics}`);
    }
    // The background ran, and the latency frames under it were traced apart from its frames.
    assert.match(r.stderr, /troupe under a background of [0-9.]+k samples\/s, round 1/);
    assert.match(r.stderr, /stages \(p50\/p99 µs\), under the background, round 1, [1-9]/);
    // And where the host's event loop stood still, and why, in each host phase.
    assert.match(r.stderr, /the host's event loop, round 1: (no gaps|[0-9]+ gaps)/);
    assert.match(r.stderr, /the host's event loop, under the background, round 1: /);
    // One injector for the run: a warm-up of each arm, then the round's four phases.
    assert.match(r.stderr, /one injector \(pid [1-9][0-9]*\) sent all 6 phases/);
  });

  test("bench latency --load-rate 0 leaves the loaded row out, reports the receiver's CPU a frame, the p99 ratio by round, and --relay the relayed baseline", async () => {
    const r = await runTroupe([
      "bench",
      "latency",
      ...["--rounds", "1", "--seconds", "0.3", "--warmup", "0.1", "--rate", "1000"],
      ...["--load-rate", "0", "--relay", "--json"],
    ], { timeoutMs: 120_000 });
    assert.is(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Row[];
    assert.equal(rows.map((x) => x.metric), [
      "latency_us_p50",
      "latency_us_p99",
      "latency_us_p999",
      "latency_us_p99_ratio_by_round",
      "latency_us_p50_relayed",
      "latency_us_p99_relayed",
      "cpu_us_per_frame",
      "cpu_us_per_frame_process",
    ]);
    // Troupe's frames against raw nats.js's messages relayed by the host's process: both timed.
    for (const relayed of [rows[4]!, rows[5]!]) {
      assert.ok(relayed.troupe > 0 && relayed.baseline! > 0, JSON.stringify(relayed));
    }
    assert.is(rows[5]!.troupe, rows[1]!.troupe); // the same troupe phases as latency_us_p99
    // One round: the median of the rounds' p99 ratios is that round's, latency_us_p99's ratio.
    assert.ok(Math.abs(rows[3]!.troupe - rows[1]!.ratio!) < 1e-9, JSON.stringify(rows[3]));
    assert.is(rows[3]!.baseline, null);
    assert.match(
      r.stderr,
      /raw nats\.js relayed by the host's process, round 1: [1-9][0-9]* frames/,
    );
    // The host's main thread against raw nats.js's subscriber, in µs (not ms, not a share), and
    // the host's whole process at least what its main thread used.
    const [thread, proc] = [rows[6]!, rows[7]!];
    assert.ok(thread.troupe > 0 && thread.troupe < 10_000, JSON.stringify(thread));
    assert.ok(thread.baseline! > 0 && thread.baseline! < 10_000, JSON.stringify(thread));
    assert.ok(proc.troupe >= thread.troupe * 0.9 && proc.baseline === null, JSON.stringify(proc));
    assert.match(r.stderr, /CPU a frame: the receiving thread [0-9.]+ µs, the process [0-9.]+ µs/);
  });

  test("bench latency --timeline writes each phase's frames on the wall clock, in order of sending, with the receiving threads' stalls, all phases from one injector", async () => {
    const dir = mkdtempSync(join(tmpdir(), "troupe-test-timeline-"));
    try {
      const fromUs = Date.now() * 1000;
      const r = await runTroupe([
        "bench",
        "latency",
        ...["--rounds", "1", "--seconds", "0.3", "--warmup", "0.1", "--rate", "1000"],
        ...["--load-rate", "0", "--timeline", dir, "--json"],
      ], { timeoutMs: 120_000 });
      const toUs = Date.now() * 1000;
      assert.is(r.code, 0, r.stderr);
      assert.equal(readdirSync(dir).sort(), [
        "r1-raw.frames.json",
        "r1-raw.host.json",
        "r1-troupe.frames.json",
        "r1-troupe.host.json",
      ]);
      const within = (us: number) => us >= fromUs && us <= toUs;
      const pids = new Set<number>();
      for (const phase of ["r1-troupe", "r1-raw"]) {
        const file = JSON.parse(readFileSync(join(dir, `${phase}.frames.json`), "utf8"));
        assert.is(file.clock, "CLOCK_REALTIME");
        const frames = file.frames as [number, number][];
        assert.is(frames.length, 300, phase); // the measured frames: 1,000/s for 0.3 s
        let answered = 0;
        for (let i = 0; i < frames.length; i++) {
          const [sentUs, latencyUs] = frames[i]!;
          assert.ok(within(sentUs), `${phase} frame ${i} sent at ${sentUs}, not in the run`);
          if (i > 0) assert.ok(sentUs >= frames[i - 1]![0], `${phase} frame ${i} out of order`);
          assert.ok(latencyUs > 0 || latencyUs === -1, `${phase} frame ${i}: ${latencyUs}`);
          if (latencyUs > 0) answered++;
        }
        assert.ok(answered > 150, `${phase}: ${answered} of 300 frames answered`);
        // The stalls of the injector's receiving thread and of the host's: each 2 ms or more.
        const host = JSON.parse(readFileSync(join(dir, `${phase}.host.json`), "utf8"));
        pids.add(file.receiver.pid);
        assert.is.not(file.receiver.pid, host.pid, phase); // the injector's, not the host's
        for (const stalls of [file.receiver, host]) {
          assert.ok(Array.isArray(stalls.gaps) && Array.isArray(stalls.gcs), phase);
          assert.ok(Number.isInteger(stalls.pid), phase);
          // perf's clock is a fixed offset away, known on Node (its hrtime is CLOCK_MONOTONIC).
          const offset = stalls.monotonic_minus_wall_us;
          assert.ok(offset === null || Number.isInteger(offset), `${phase}: ${offset}`);
          for (const [startUs, us] of stalls.gaps) assert.ok(within(startUs) && us >= 2000, phase);
          for (const [startUs, , kind] of stalls.gcs) {
            assert.ok(within(startUs) && typeof kind === "string", phase);
          }
        }
      }
      // One injector process sent troupe's phase and raw's: none was compiled afresh.
      assert.is(pids.size, 1, `the phases' injectors: ${[...pids].join(", ")}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("bench latency --input jetstream has the host read its feed from the stream, as troupe up's one-thread host does", async () => {
    const r = await runTroupe([
      "bench",
      "latency",
      ...["--rounds", "1", "--seconds", "0.3", "--warmup", "0.1", "--rate", "1000"],
      ...["--load-rate", "0", "--input", "jetstream", "--json"],
    ], { timeoutMs: 120_000 });
    assert.is(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Row[];
    const p50 = rows.find((x) => x.metric === "latency_us_p50");
    assert.ok(p50 && p50.troupe > 0 && p50.baseline! > 0, JSON.stringify(rows));
    // The measured frames got their answers through the stream's consumer.
    assert.match(
      r.stderr,
      /troupe \(stats, its feed from JetStream\), round 1: [1-9][0-9]* frames/,
    );
    // Read from the stream: core NATS gives no sequence.
    assert.match(r.stderr, /channel l0 read up to feed stream sequence [1-9]/);
    const bad = await runTroupe(["bench", "latency", "--input", "disk"], { timeoutMs: 60_000 });
    assert.is.not(bad.code, 0);
    assert.match(bad.stderr, /Option --input must be core or jetstream, got "disk"/);
  });
}

test.run();
