/**
 * `troupe bench pipeline`, short: a real nats-server, the injector, hosts and the raw subscriber.
 * What is asserted is that each round says its regime (the receiving process's CPU and GC shares
 * beside each arm's samples/s) and that the rows agree with one another, never a speed.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { runTroupe } from "../_support/cli.ts";
import { haveNatsServer } from "../_support/nats.ts";

const test = suite("bench pipeline");

interface Row {
  metric: string;
  unit: string;
  troupe: number;
  baseline: number | null;
  ratio: number | null;
}

/** Deno lists "gc" performance entries but never reports one: the GC rows are Node's only. */
const gcReadable = !("Deno" in globalThis);

/** Runs the bench short, in JSON, and gives its rows by metric (and its log, to `log`). */
async function pipelineRows(
  extra: string[],
  log?: (stderr: string) => void,
  seconds = 0.3,
): Promise<Map<string, Row>> {
  const r = await runTroupe([
    "bench",
    "pipeline",
    ...["--seconds", String(seconds), "--warmup", "0.3", "--settle", "0.1", "--channels", "8"],
    ...extra,
    "--json",
  ], { timeoutMs: 180_000 });
  assert.is(r.code, 0, r.stderr);
  // The log line of each phase says the same as its rows.
  assert.match(r.stderr, /raw nats\.js: [0-9.]+[kM]? samples\/s \(CPU: receiver [0-9]+%, .*GC: /);
  log?.(r.stderr);
  return new Map((JSON.parse(r.stdout) as Row[]).map((x) => [x.metric, x]));
}

/** Checks round `n`'s rows under `prefix`: present, sane, and its samples/s row's ratio. */
function checkRound(rows: Map<string, Row>, prefix: string, n: number): Row {
  const metrics = [...rows.keys()].join(", ");
  const rate = rows.get(`${prefix}samples_per_s_round_${n}`);
  assert.ok(rate, `no ${prefix}samples_per_s_round_${n} in ${metrics}`);
  assert.ok(rate.troupe > 0 && rate.baseline! > 0, JSON.stringify(rate));
  assert.ok(Math.abs(rate.ratio! - rate.troupe / rate.baseline!) < 1e-9, JSON.stringify(rate));
  const cpu = rows.get(`${prefix}receiver_cpu_pct_round_${n}`);
  assert.ok(cpu, `no ${prefix}receiver_cpu_pct_round_${n} in ${metrics}`);
  assert.is(cpu.unit, "% of a core");
  // A receiver that consumed frames used some CPU, and no more than every core of the machine
  // (with slack for the tick count's granularity).
  for (const pct of [cpu.troupe, cpu.baseline!]) assert.ok(pct > 0 && pct < 1000, `${pct}`);
  const gc = rows.get(`${prefix}receiver_gc_pct_round_${n}`);
  if (gcReadable) {
    assert.ok(gc, `no ${prefix}receiver_gc_pct_round_${n} in ${metrics}`);
    assert.is(gc.unit, "% of wall");
    for (const pct of [gc.troupe, gc.baseline!]) assert.ok(pct >= 0 && pct <= 100, `${pct}`);
  } else {
    assert.is(gc, undefined, `a GC share on a runtime that reports no collection: ${metrics}`);
  }
  return rate;
}

if (haveNatsServer("bench pipeline")) {
  test("bench pipeline gives each round's samples/s with its receiver's CPU and GC shares", async () => {
    let log = "";
    const rows = await pipelineRows(["--rounds", "3"], (stderr) => (log = stderr));
    // The host runs in a process of its own, whose memory the log gives by part before its first
    // frame and at its peak's reading; the row is that process's peak, at least its idle figure.
    const idle = /host memory before its first frame, MiB: (\{.*\})/.exec(log);
    assert.ok(idle, log);
    const parts = JSON.parse(idle[1]!) as Record<string, number>;
    assert.ok(parts.rss! > 0 && parts.heapUsed! > 0, idle[1]);
    assert.match(log, /host memory now, MiB: \{"rss":/);
    assert.ok(
      rows.get("host_rss_mb")!.troupe >= parts.rss!,
      JSON.stringify(rows.get("host_rss_mb")),
    );
    const rounds = [1, 2, 3].map((n) => checkRound(rows, "", n));
    assert.not.ok(rows.has("samples_per_s_round_4"));
    // The reported figure is still the median of the rounds, each arm's own.
    const mid = (xs: number[]) => xs.sort((a, b) => a - b)[1]!;
    const total = rows.get("samples_per_s")!;
    assert.is(total.troupe, mid(rounds.map((r) => r.troupe)));
    assert.is(total.baseline, mid(rounds.map((r) => r.baseline!)));
  });

  test("bench pipeline --threads 2 gives each round's threaded host against the one-thread host too", async () => {
    const rows = await pipelineRows(["--rounds", "1", "--threads", "2"]);
    const raw = checkRound(rows, "", 1);
    const threads = checkRound(rows, "threads_", 1);
    // The same threaded phase measured against both baselines.
    assert.is(threads.troupe, raw.troupe);
    assert.is(rows.get("threads_samples_per_s")!.baseline, threads.baseline);
  });

  test("bench pipeline --deadline gives each round's host against the same host without a step deadline", async () => {
    const rows = await pipelineRows(["--rounds", "1", "--deadline"]);
    const raw = checkRound(rows, "", 1);
    const deadline = checkRound(rows, "deadline_", 1);
    assert.is(deadline.troupe, raw.troupe);
    assert.is(rows.get("deadline_samples_per_s")!.baseline, deadline.baseline);
    assert.not.ok(rows.has("threads_samples_per_s"));
  });

  test("bench pipeline --team-kind gives each round's team's kind on a worker thread against it on the host's thread", async () => {
    let stderr = "";
    // The team's kind on the host's thread holds that thread for its steps: phases long enough
    // that a stall of the host on a loaded machine does not leave one without a frame.
    const rows = await pipelineRows(["--rounds", "1", "--team-kind"], (e) => (stderr = e), 1);
    const raw = checkRound(rows, "", 1);
    const team = checkRound(rows, "team_kind_", 1);
    assert.is(team.troupe, raw.troupe);
    assert.is(rows.get("team_kind_samples_per_s")!.baseline, team.baseline);
    assert.not.ok(rows.has("deadline_samples_per_s"));
    assert.match(
      stderr,
      "a team's kind on a worker thread first / on the host's thread by round: ",
    );
  });

  test("bench pipeline --team-kind refuses --threads and --deadline, naming them", async () => {
    const r = await runTroupe(["bench", "pipeline", "--team-kind", "--threads", "2"]);
    assert.is(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      "Option --team-kind measures a one-thread host, so it takes no --threads, got 2",
    );
    const both = await runTroupe(["bench", "pipeline", "--team-kind", "--deadline"]);
    assert.is(both.code, 2, both.stderr);
    assert.match(both.stderr, "Options --deadline and --team-kind are two runs: give one");
  });

  test("bench pipeline --deadline refuses --threads, naming both", async () => {
    const r = await runTroupe(["bench", "pipeline", "--deadline", "--threads", "2"]);
    assert.is(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      "Option --deadline measures a one-thread host, so it takes no --threads, got 2",
    );
  });
}

test.run();
