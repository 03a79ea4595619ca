/**
 * `actors.bars.history_dir`: OHLCV CSV files seed the bars actors of a launched host (file
 * journal, as `troupe run` runs it), the seed is journaled so a restart without the files folds
 * the same bars, a bad line is reported with file, line and value while the good ones are kept,
 * and a scan over the API sees the seeded history.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { ACTOR_KINDS } from "../../../actors/mod.ts";
import {
  type BarsConfig,
  barsKernel,
  barsOfSeedBody,
  barsSeedBody,
  type BarsState,
  type HeldBars,
  heldCount,
  heldView,
  parseBarsCsv,
  parseCsvTime,
  readHeld,
  type SeedBars,
  seedBarsHistory,
} from "../../../actors/bars/mod.ts";
import {
  FileJournal,
  type LaunchedHost,
  launchHost,
  parseHostConfig,
} from "../../../actors/runtime/mod.ts";
import { scanHostService } from "../../../actors/scan/mod.ts";
import { decodeInputRecord, decodeValue, encodeValue } from "../../../protocol/mod.ts";
import { Prng } from "../../../sim/mod.ts";
import { type HealthProbe, startHealthProbe } from "../../_support/health_probe.ts";
import { tempDir } from "../../_support/nats.ts";
import { postJson, readWs } from "../scan/_scan_client.ts";

const test = suite("bars history");

const MIN_US = 60e6;
const T0_S = 1_700_000_040; // a whole minute, epoch seconds

/** `n` random-walk 1m bars from `seed`, as CSV lines and as the columns they must become. */
function series(seed: number, n: number, t0s = T0_S) {
  const prng = new Prng(seed);
  const lines: string[] = [];
  const rows: number[][] = [];
  let x = 50 + 100 * prng.next();
  for (let i = 0; i < n; i++) {
    const o = x;
    x = Math.round(x * (1 + 0.01 * prng.normal()) * 100) / 100;
    const h = Math.round(Math.max(o, x) * 101) / 100, l = Math.round(Math.min(o, x) * 99) / 100;
    const v = prng.int(5000);
    const t = t0s + 60 * i;
    lines.push(`${t},${o},${h},${l},${x},${v}`);
    rows.push([t * 1e6, o, h, l, x, v]);
  }
  return { lines, rows };
}

function held(state: BarsState, j = 0): HeldBars & { n: number } {
  const cap = heldCount(state, j);
  const c = () => new Float64Array(cap);
  const out = { t: c(), open: c(), high: c(), low: c(), close: c(), count: c(), sum: c() };
  return { ...out, n: readHeld(state, j, out) };
}

function assertRows(bars: HeldBars & { n: number }, rows: number[][], what: string) {
  assert.is(bars.n, rows.length, `${what}: bars held`);
  rows.forEach((r, i) => {
    const got = [bars.t[i], bars.open[i], bars.high[i], bars.low[i], bars.close[i], bars.count[i]];
    assert.equal(got, r.slice(0, 6), `${what}: bar ${i}`);
    assert.is(bars.sum[i], r[6] ?? r[5], `${what}: bar ${i} sum`);
  });
}

test("parseCsvTime() reads epoch seconds and ISO 8601, a date-time without zone as UTC", () => {
  assert.is(parseCsvTime("1700000040"), 1_700_000_040_000_000);
  assert.is(parseCsvTime("2023-11-14T22:14:00Z"), 1_700_000_040_000_000);
  assert.is(parseCsvTime("2023-11-14 22:14:00"), 1_700_000_040_000_000);
  assert.is(parseCsvTime("2023-11-14T23:14:00+01:00"), 1_700_000_040_000_000);
  assert.is(parseCsvTime("2023-11-14"), 1_699_920_000_000_000);
  assert.is(parseCsvTime("yesterday"), undefined);
  assert.is(parseCsvTime("2023-11-14T22:14"), 1_700_000_040_000_000);
});

test("parseBarsCsv() keeps every good line and names the line and value of each bad one", () => {
  const { lines, rows } = series(1, 12);
  const text = [
    "time,open,high,low,close,volume",
    ...lines.slice(0, 3),
    `${T0_S + 180},10,abc,9,10,5`, // line 5: high not a number
    lines[3]!,
    `${T0_S + 270},10,11,9,10,5`, // line 7: not on the minute grid
    lines[4]!,
    lines[4]!, // line 9: not after the bar before
    `${T0_S + 400 * 60},10,9,8,10,1`, // line 10: high under the close
    "", // blank: ignored
    `${T0_S + 401 * 60},10,11`, // line 12: too few fields
    `${T0_S + 402 * 60},10,11,9,10,-4`, // line 13: negative volume
    `${T0_S + 403 * 60},0x10,20,9,10,5`, // line 14: hexadecimal
    `${T0_S + 404 * 60},10,11, ,10,5`, // line 15: blank
    ...lines.slice(5),
  ].join("\r\n");
  const parsed = parseBarsCsv(text, { sizeUs: MIN_US, keep: 100 });
  assert.equal(
    parsed.errors.map((e) => [e.line, e.value]),
    [
      [5, "abc"],
      [7, String(T0_S + 270)],
      [9, String(T0_S + 240)],
      [10, `${T0_S + 400 * 60},10,9,8,10,1`],
      [12, `${T0_S + 401 * 60},10,11`],
      [13, "-4"],
      [14, "0x10"],
      [15, ""],
    ],
  );
  assert.match(parsed.errors[0]!.message, /field "high" must be a finite number/);
  assert.match(parsed.errors[1]!.message, /not the start of a bar of 60 s/);
  assert.match(parsed.errors[2]!.message, /must come after the bar before it/);
  assert.match(parsed.errors[3]!.message, /high 9 and low 8 must bound open 10 and close 10/);
  assert.match(parsed.errors[4]!.message, /expected 5 or 6 fields/);
  assert.match(parsed.errors[5]!.message, /field "volume" must be a number ≥ 0/);
  // The lines at 400 and later minutes were bad, so the good bars are exactly the series.
  const b = parsed.bars;
  assert.is(b.t.length, rows.length);
  rows.forEach((r, i) => {
    assert.equal([b.t[i], b.open[i], b.high[i], b.low[i], b.close[i], b.count[i]], r);
  });
});

test("parseBarsCsv() keeps the last `keep` bars and takes a file without volume", () => {
  const { lines, rows } = series(2, 30);
  const five = lines.map((l) => l.split(",").slice(0, 5).join(","));
  const parsed = parseBarsCsv(five.join("\n") + "\n", { sizeUs: MIN_US, keep: 10 });
  assert.is(parsed.errors.length, 0);
  assert.is(parsed.olderDropped, 20);
  assert.equal([...parsed.bars.t], rows.slice(20).map((r) => r[0]));
  assert.equal([...parsed.bars.count], new Array(10).fill(0));
});

test("a seed body survives msgpack and seeds the ring; bars at or before those held are dropped", () => {
  const config: BarsConfig = { bar_sizes: ["1m"], history_bars: 8, close_grace_ms: 0 };
  const state = barsKernel.init(config, "X");
  const { rows } = series(3, 12);
  const col = (k: number) => new Float64Array(rows.map((r) => r[k]!));
  const bars: SeedBars = {
    sizeUs: MIN_US,
    t: col(0),
    open: col(1),
    high: col(2),
    low: col(3),
    close: col(4),
    count: col(5),
    sum: col(5),
  };
  const body = decodeValue(encodeValue(barsSeedBody(bars)));
  assert.is(barsKernel.seed(state, barsOfSeedBody(body)), 0);
  assertRows(held(state), rows.slice(4), "seeded");
  // Seeded again: every bar is at or before those held, so none is taken.
  assert.is(barsKernel.seed(state, barsOfSeedBody(body)), 12);
  // Live samples go on after the seed; save/load keeps it all.
  const tLive = rows[11]![0]! + MIN_US;
  barsKernel.step(state, {
    channel: "X",
    seq0: 0,
    t: new Float64Array([tLive, tLive + 1, tLive + MIN_US]),
    v: new Float64Array([7, 8, 6]),
  });
  const back = barsKernel.load(barsKernel.save(state));
  assertRows(held(back), [...rows.slice(5), [tLive, 7, 8, 7, 8, 2, 15]], "after live bar");
  assert.throws(() => barsOfSeedBody({ size_us: MIN_US, t: 5 }), /field "t" must be bin/);
  assert.throws(
    () => barsKernel.seed(state, { ...bars, sizeUs: 5 * MIN_US }),
    /not a size built here/,
  );
});

test("heldView() gives the ring's own columns where they lie in one stretch, else nothing", () => {
  const config: BarsConfig = { bar_sizes: ["1m"], history_bars: 8, close_grace_ms: 0 };
  const { rows } = series(7, 12);
  const col = (k: number, from: number, to: number) =>
    new Float64Array(rows.slice(from, to).map((r) => r[k]!));
  const seed = (state: BarsState, from: number, to: number) =>
    barsKernel.seed(state, {
      sizeUs: MIN_US,
      t: col(0, from, to),
      open: col(1, from, to),
      high: col(2, from, to),
      low: col(3, from, to),
      close: col(4, from, to),
      count: col(5, from, to),
      sum: col(5, from, to),
    });
  const state = barsKernel.init(config, "X");
  assert.equal(heldView(state, 0)?.t.length, 0, "empty");
  seed(state, 0, 8); // exactly full: one stretch
  const view = heldView(state, 0)!;
  const copy = held(state);
  for (const k of ["t", "open", "high", "low", "close", "count", "sum"] as const) {
    assert.equal([...view[k]], [...copy[k]], k);
  }
  assert.is(heldView(state, 0), view, "the same object while no bar closes");
  seed(state, 8, 11); // wrapped
  assert.is(heldView(state, 0), undefined);
  assertRows(held(state), rows.slice(3, 11), "wrapped, copied");
  // Round to the same head again: 5 more bars from live samples, a new object with the new bars.
  const t = rows[10]![0]! + MIN_US;
  const times = Array.from({ length: 6 }, (_, i) => t + i * MIN_US);
  barsKernel.step(state, {
    channel: "X",
    seq0: 0,
    t: new Float64Array(times),
    v: new Float64Array([1, 2, 3, 4, 5, 6]),
  });
  const again = heldView(state, 0)!;
  assert.ok(again !== view, "a new object once bars closed");
  assert.equal([...again.t], [...rows.slice(8, 11).map((r) => r[0]!), ...times.slice(0, 5)]);
});

async function launch(dataDir: string, historyDir?: string): Promise<LaunchedHost> {
  const config = parseHostConfig({
    host_id: "history",
    data_dir: dataDir,
    http_port: 0,
    journal: { kind: "file", fsync: "never" },
    actors: {
      ...Object.fromEntries(Object.keys(ACTOR_KINDS).map((k) => [k, { enabled: false }])),
      bars: {
        bar_sizes: ["1m", "1h"],
        history_bars: 100,
        ...(historyDir ? { history_dir: historyDir } : {}),
      },
    },
  }, ACTOR_KINDS);
  return await launchHost(config, ACTOR_KINDS, {
    log: (m) => logs.push(m),
    tickEveryMs: 0,
    service: scanHostService(),
  });
}
const logs: string[] = [];

const stateOf = (h: LaunchedHost, ch: string) =>
  h.host.instance("bars", ch)?.kernelState as BarsState;

test("history_dir seeds a launched host; a restart without the files folds the same bars from its journal", async () => {
  const dir = tempDir();
  const hist = join(dir.path, "history");
  mkdirSync(hist);
  const a = series(4, 150), b = series(5, 40), c = series(6, 30, 1_699_999_200);
  writeFileSync(
    join(hist, "AAPL.1m.csv"),
    ["time,open,high,low,close,volume", ...a.lines].join("\n"),
  );
  writeFileSync(
    join(hist, "MSFT.1m.csv"),
    [...b.lines.slice(0, 20), "not,a,bar,at,all", ...b.lines.slice(20)].join("\n"),
  );
  writeFileSync(
    join(hist, "MSFT.1h.csv"),
    c.lines.map((l, i) => {
      const f = l.split(",");
      f[0] = String(1_699_999_200 + 3600 * i);
      return f.join(",");
    }).join("\n"),
  );
  writeFileSync(join(hist, "GOOG.7q.csv"), a.lines.join("\n"));
  writeFileSync(join(hist, "notes.txt"), "not a csv");
  logs.length = 0;
  let h = await launch(join(dir.path, "data"), hist);
  try {
    assertRows(held(stateOf(h, "AAPL")), a.rows.slice(50), "AAPL (last 100 of 150)");
    assertRows(held(stateOf(h, "MSFT")), b.rows, "MSFT 1m (the bad line left out)");
    assert.is(held(stateOf(h, "MSFT"), 1).n, 30, "MSFT 1h");
    assert.is(h.host.instance("bars", "GOOG"), undefined);
    const said = logs.join("\n");
    assert.match(said, /3 of 4 files seeded \(170 bars\), 0 held already/);
    assert.match(
      said,
      /MSFT\.1m\.csv:21: field "time" must be epoch seconds or an ISO 8601 date-time, got "not"/,
    );
    assert.match(said, /GOOG\.7q\.csv: not <channel>\.<size>\.csv with a size of/);
    // A scan over the API sees the seeded bars: every symbol closes above zero.
    const base = `http://127.0.0.1:${h.host.httpPort}`;
    const started = await postJson(`${base}/scan/stream`, {
      criteria: "close > sma(20)",
      bar: "1m",
    });
    assert.is(started.status, 200);
    const { results, end } = await readWs(started.body.websocketUrl);
    const want = ["AAPL", "MSFT"].filter((s) => {
      const rows = s === "AAPL" ? a.rows : b.rows;
      const last20 = rows.slice(-20).map((r) => r[4]!);
      return rows.at(-1)![4]! > last20.reduce((x, y) => x + y, 0) / 20;
    });
    assert.equal(results.map((r) => r.symbol).sort(), want);
    assert.is(end.symbols_done, 2);
    const before = ["AAPL", "MSFT"].map((s) => barsKernel.save(stateOf(h, s)).slice());
    await h.close();
    // The journal holds the seeds as inputs of their instances.
    const journal = await FileJournal.open(join(dir.path, "data", "journal"), { fsync: "never" });
    const kinds: string[] = [];
    for await (const r of journal.read("bars/MSFT")) kinds.push(decodeInputRecord(r.data).kind);
    await journal.close();
    assert.equal(kinds, ["init", "seed", "seed"]);
    // Restart without history_dir: the bars come back from the journal alone.
    h = await launch(join(dir.path, "data"));
    ["AAPL", "MSFT"].forEach((s, i) => {
      assert.equal(barsKernel.save(stateOf(h, s)), before[i], `${s} after restart`);
    });
    await h.close();
    // Restart with the files changed: channels held already are not seeded again.
    writeFileSync(join(hist, "AAPL.1m.csv"), series(9, 150).lines.join("\n"));
    logs.length = 0;
    h = await launch(join(dir.path, "data"), hist);
    assert.equal(barsKernel.save(stateOf(h, "AAPL")), before[0]);
    assert.match(logs.join("\n"), /0 of 4 files seeded \(0 bars\), 3 held already/);
  } finally {
    await h.close();
    dir.remove();
  }
});

test("seedBarsHistory() seeds in slices, letting the event loop turn, the same seeds in the same order whatever the slice", async () => {
  const dir = tempDir();
  try {
    for (let i = 0; i < 12; i++) {
      writeFileSync(join(dir.path, `S${i}.1m.csv`), series(20 + i, 60).lines.join("\n"));
    }
    const config: BarsConfig = {
      bar_sizes: ["1m"],
      history_bars: 50,
      history_dir: dir.path,
    } as BarsConfig;
    const run = async (slice_ms: number) => {
      const seeds: unknown[] = [];
      const progress: number[] = [];
      let turns = 0;
      let turning = true;
      const turn = () => {
        turns++;
        if (turning) setTimeout(turn, 0);
      };
      setTimeout(turn, 0);
      const report = await seedBarsHistory(
        {
          seed: (kind, key, seed) => {
            seeds.push([kind, key, seed.id, encodeValue(seed.body)]);
            // Each seed takes 2 ms, so that a 0 ms timer (1 ms in Node) is due at every slice's
            // end: on a quiet machine the 12 files once seeded in under a timer's wait, and the
            // count of turns below said more about the machine's speed than about the slices.
            const until = performance.now() + 2;
            while (performance.now() < until) { /* a seed's work */ }
            return true;
          },
          instance: () => undefined,
        },
        config,
        { slice_ms, progress: (done) => progress.push(done) },
      );
      turning = false;
      return { seeds, progress, turns, report };
    };
    const whole = await run(1e9), sliced = await run(0);
    assert.is(whole.report.seeded, 12);
    assert.equal(sliced.seeds, whole.seeds, "the same seeds, in the same order");
    assert.equal(sliced.report, whole.report);
    assert.equal(whole.progress, [12], "one slice: told once, at the end");
    assert.is(
      sliced.progress.length,
      13,
      "a slice a file: told before each file but the first, and at the end",
    );
    assert.ok(sliced.turns >= 2, `timers ran while seeding in slices (${sliced.turns} turns)`);
  } finally {
    dir.remove();
  }
});

/** A TCP port free now on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

test("/healthz answers while a launched host seeds its history: 503, seeding, with the count; then 200", async () => {
  const dir = tempDir();
  const hist = join(dir.path, "history");
  mkdirSync(hist);
  let probe: HealthProbe | undefined;
  try {
    // Enough files that seeding takes many slices (~0.5 s), each followed by a turn of the loop.
    const FILES = 2_000;
    const one = series(7, 100).lines.join("\n");
    for (let i = 0; i < FILES; i++) writeFileSync(join(hist, `H${i}.1m.csv`), one);
    const port = await freePort();
    const config = parseHostConfig({
      host_id: "seeding",
      data_dir: join(dir.path, "data"),
      http_port: port,
      journal: { kind: "file", fsync: "never" },
      actors: {
        ...Object.fromEntries(Object.keys(ACTOR_KINDS).map((k) => [k, { enabled: false }])),
        bars: { bar_sizes: ["1m"], history_bars: 100, history_dir: hist },
      },
    }, ACTOR_KINDS);
    // A monitor in a process of its own: a probe from this one, on Deno, was held until seeding
    // ended (tests/_support/health_probe.ts).
    probe = startHealthProbe(`http://127.0.0.1:${port}/healthz`);
    await probe.started;
    const launched = await launchHost(config, ACTOR_KINDS, {
      log: () => {},
      tickEveryMs: 0,
      service: scanHostService(),
    });
    try {
      const after = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.is(after.status, 200);
      assert.is(launched.host.instances().length, FILES);
      const seen = (await probe.stop()).flatMap((o) => "body" in o ? [o] : []);
      const seeding = seen.filter((o) => reasons(o).some((x) => x.startsWith("seeding")));
      assert.ok(seeding.length > 0, `healthz said seeding at least once: ${JSON.stringify(seen)}`);
      for (const o of seeding) {
        assert.is(o.status, 503);
        assert.match(
          reasons(o).join(";"),
          new RegExp(`seeding: bars history \\d+ of ${FILES} files`),
        );
      }
    } finally {
      await launched.close();
    }
  } finally {
    await probe?.stop().catch(() => {}); // a failure of the test itself is the one to show
    dir.remove();
  }
});

/** The reasons a /healthz answer gives. */
const reasons = (answer: { body: Record<string, unknown> }) => answer.body.reasons as string[];

test("a history_dir that does not exist stops the start, naming it", async () => {
  const dir = tempDir();
  try {
    const err = await launch(join(dir.path, "data"), join(dir.path, "nope")).then(
      async (h) => {
        await h.close();
        return undefined;
      },
      (e: Error) => e,
    );
    assert.match(String(err?.message), /Cannot read actors\.bars\.history_dir ".*nope"/);
  } finally {
    dir.remove();
  }
});

test.run();
