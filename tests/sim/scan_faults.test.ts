/**
 * A scan under the simulator's faults: the scan service and three workers, each a process on the
 * simulated bus (virtual time, the seeded network faults a simulation draws: drops, duplicates,
 * reorderings, latency), and one worker that dies in the middle of a chunk (its connection killed,
 * as the simulator crashes a process: nothing it sends after leaves it) and comes back a second
 * later as a new process. The chunk it held is taken again after `chunk_timeout_ms`, and every
 * subscriber (one from the start, one joining late, one dropping and resuming from its last
 * sequence number) gets each result once, numbered 1..N, equal to the criteria evaluated directly.
 *
 * `simulate()`'s cluster runs hosts of actor kinds over feeds; the scan service runs beside a host
 * (launchHost's service), which that cluster does not build, so this test puts the simulator's own
 * parts (Scheduler, SimBus, drawFaultParams, process kill) around the scan service and workers.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Bus, ScanResult } from "../../protocol/mod.ts";
import { type BarsSource, ScanService, ScanWorker } from "../../actors/scan/mod.ts";
import { drawFaultParams, parseFaults, Prng, Scheduler, SimBus } from "../../sim/mod.ts";
import type { SimConnection } from "../../sim/sim_bus.ts";
import { CRITERIA, expected, RANK, source, universe } from "../actors/scan/_scan_setup.ts";
import { decodeScanChunk, decodeScanWork, SCAN_WORK_SUBJECT } from "../../protocol/mod.ts";

const test = suite("scan under simulated faults");

const T0_US = 1_700_000_000_000_000;
const SYMBOLS = 400;
const CHUNK = 25;
const WORKERS = 3;

/** The service's bus: each delivery says it starts asynchronous work (journal appends). */
function asyncBus(conn: SimConnection): Bus {
  return {
    publish: (s, d, o) => conn.publish(s, d, o),
    subscribe: (p, h, o) =>
      conn.subscribe(p, (msg) => {
        conn.markAsync();
        h(msg);
      }, o),
    request: (s, d, o) => conn.request(s, d, o),
    flush: () => conn.flush(),
    close: () => conn.close(),
  };
}

/** A BarsSource that kills its process at its `at`-th symbol: a worker dying mid-chunk. */
function dyingSource(inner: BarsSource, at: number, die: (symbol: string) => void): BarsSource {
  let n = 0;
  return {
    symbols: () => inner.symbols(),
    bars: (symbol, bar) => {
      if (++n === at) die(symbol);
      return inner.bars(symbol, bar);
    },
  };
}

/** A subscriber that keeps every result it is given, and may drop and resume. */
class Reader {
  results: ScanResult[] = [];
  ended = false;
  #stop: (() => void) | undefined;
  constructor(readonly service: ScanService, readonly scanId: string) {}
  join(after: number): void {
    this.#stop = this.service.subscribe(this.scanId, after, {
      result: (r) => this.results.push(r),
      end: () => (this.ended = true),
    });
  }
  drop(): void {
    this.#stop?.();
  }
}

async function run(seed: number) {
  const prng = new Prng(seed);
  const params = drawFaultParams(new Prng(`params-${seed}`), parseFaults("network").set);
  const scheduler = new Scheduler(T0_US);
  const bus = new SimBus({ scheduler, prng: new Prng(`bus-${seed}`), faults: params.network });
  const u = universe(SYMBOLS, seed);
  const want = expected(u);
  const group = scheduler.timers();
  const service = new ScanService({
    bus: asyncBus(bus.connect("svc")),
    bars: source(u),
    chunk_symbols: CHUNK,
    inflight_max: 4,
    chunk_timeout_ms: 300,
    now: () => scheduler.nowUs / 1000,
    newId: () => `scan${seed}`,
    timers: {
      setInterval: (f, ms) => {
        const live = { on: true };
        const loop = () => {
          if (!live.on) return;
          f();
          group.setTimeout(loop, ms);
        };
        group.setTimeout(loop, ms);
        return live;
      },
      clearInterval: (t) => ((t as { on: boolean }).on = false),
    },
  });
  await service.start();
  // Every work message sent, and every chunk result a worker sent.
  const work: Array<{ chunk: number; attempt: number; symbols: string[] }> = [];
  const sentBy: Array<{ worker: string; chunk: number }> = [];
  bus.tap((_from, subject, data) => {
    if (subject === SCAN_WORK_SUBJECT) work.push(decodeScanWork(data));
    else if (subject.endsWith(".chunk")) sentBy.push(decodeScanChunk(data));
  });
  const doomed = prng.int(WORKERS), dieAt = 2 + prng.int(CHUNK - 3);
  let died: { atUs: number; symbol: string } | undefined;
  for (let w = 0; w < WORKERS; w++) {
    const conn = bus.connect(`w${w}`);
    const bars = w !== doomed ? source(u) : dyingSource(source(u), dieAt, (symbol) => {
      conn.kill();
      died = { atUs: scheduler.nowUs, symbol };
      scheduler.after(1_000_000, () => {
        new ScanWorker({
          bus: bus.connect(`w${w}-restarted`),
          bars: source(u),
          id: `w${w}b`,
          defer: (run) => run(), // on the simulator's time, not the event loop's
        }).start();
      });
    });
    new ScanWorker({ bus: conn, bars, id: `w${w}`, defer: (run) => run() }).start();
  }
  const { scanId } = await service.startScan({ criteria: CRITERIA, rank: RANK, bar: "1m" });
  const first = new Reader(service, scanId), late = new Reader(service, scanId);
  const resuming = new Reader(service, scanId);
  first.join(0);
  resuming.join(0);
  let resumed = false, lateJoined = false;
  const endUs = T0_US + 120_000_000;
  while (!(first.ended && late.ended && resuming.ended) && scheduler.nowUs < endUs) {
    await scheduler.run(scheduler.nowUs + 20_000);
    if (!resumed && resuming.results.length >= 2) {
      resuming.drop();
      scheduler.after(400_000, () => resuming.join(resuming.results.at(-1)!.seq));
      resumed = true;
    }
    if (scheduler.nowUs >= T0_US + 600_000 && !lateJoined) {
      late.join(0);
      lateJoined = true;
    }
  }
  return { service, scanId, want, readers: { first, late, resuming }, work, sentBy, died, doomed };
}

test("a worker that dies mid-chunk: its chunk is taken again, no result lost or doubled, under network faults (8 seeds)", async () => {
  for (let seed = 1; seed <= 8; seed++) {
    const r = await run(seed);
    const where = `seed ${seed}`;
    const stats = r.service.stats(r.scanId)!;
    assert.is(stats.state, "done", `${where}: state`);
    assert.is(stats.symbols_done, SYMBOLS, `${where}: symbols done`);
    assert.is(stats.signals, r.want.size, `${where}: signals`);
    assert.ok(r.died, `${where}: the doomed worker w${r.doomed} died`);
    // The chunk it was scanning when it died: never answered by it, sent again, answered once.
    const chunk = r.work.find((w) => w.symbols.includes(r.died!.symbol))!.chunk;
    const from = `w${r.doomed}`;
    assert.not.ok(
      r.sentBy.some((m) => m.worker === from && m.chunk === chunk),
      `${where}: the dead worker answered chunk ${chunk}`,
    );
    assert.ok(
      r.work.some((w) => w.chunk === chunk && w.attempt > 0),
      `${where}: chunk ${chunk} sent again`,
    );
    const inChunk = r.work.find((w) => w.chunk === chunk)!.symbols.filter((s) => r.want.has(s));
    assert.equal(
      r.readers.first.results.filter((x) => x.chunk === chunk).map((x) => x.symbol).sort(),
      inChunk.sort(),
      `${where}: chunk ${chunk}'s results, once`,
    );
    for (const [name, reader] of Object.entries(r.readers)) {
      const seqs = reader.results.map((x) => x.seq);
      assert.equal(
        seqs,
        Array.from({ length: r.want.size }, (_, i) => i + 1),
        `${where}: ${name} seqs`,
      );
      const got = new Map(reader.results.map((x) => [x.symbol, x.rank]));
      assert.is(got.size, r.want.size, `${where}: ${name} symbols once each`);
      for (const [symbol, rank] of r.want) {
        assert.is(got.get(symbol), rank, `${where}: ${name} ${symbol}`);
      }
      assert.ok(reader.ended, `${where}: ${name} told the scan ended`);
    }
  }
});

test.run();
