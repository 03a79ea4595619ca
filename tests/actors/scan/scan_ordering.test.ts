import { suite } from "uvu";
import * as assert from "uvu/assert";
import { InProcessBus } from "../../../actors/runtime/mod.ts";
import { decodeValue } from "../../../protocol/mod.ts";
import {
  type BarsSource,
  FIRST_CHUNK_SYMBOLS,
  memoryScanJournals,
  ScanService,
  ScanWorker,
  WARM_SLICE_SYMBOLS,
} from "../../../actors/scan/mod.ts";
import { randomBars } from "../indicators/_series.ts";
import { CRITERIA, expected, RANK, source, universe, until } from "./_scan_setup.ts";

import { recorder } from "./_scan_service_setup.ts";

const test = suite("ScanService ordering");

test("scans of an unchanged universe reuse its priority order: one pass over the symbols while the source's version holds", async () => {
  const u = universe(300);
  const inner = source(u);
  let version = 1, listed = 0;
  const counted: BarsSource = {
    symbols: () => (listed++, inner.symbols()),
    bars: (symbol, bar) => inner.bars(symbol, bar),
    version: () => version,
  };
  const bus = new InProcessBus();
  const journals = memoryScanJournals();
  let id = 0;
  const options = { bus, journals, bars: counted, chunk_symbols: 40, newId: () => `scan${++id}` };
  const service = new ScanService(options);
  const worker = new ScanWorker({ bus, bars: source(u), id: "w" });
  await service.start();
  worker.start();
  const scan = async () => {
    const { scanId } = await service.startScan({ criteria: CRITERIA, rank: RANK });
    await until(() => service.stats(scanId)?.state === "done", 10_000, `${scanId} done`);
    const r = recorder();
    service.subscribe(scanId, 0, r.listener);
    assert.equal(new Map(r.got.map((x) => [x.symbol, x.rank])), expected(u), scanId);
    const def = [];
    const journal = await journals.open(scanId);
    for await (const rec of journal.read(`scan/${scanId}`)) def.push(decodeValue(rec.data));
    return { ...def[0] as { k: string; scanId: string; chunks: string[][] }, got: r.got };
  };
  const first = await scan(), second = await scan(), third = await scan();
  assert.is(listed, 1, "one listing for three scans");
  assert.is(second.k, "def");
  assert.is(second.scanId, "scan2");
  // The second scan puts the first one's hits first (best first), the rest as before.
  const hits = first.got.slice(0, FIRST_CHUNK_SYMBOLS).map((x) => x.symbol);
  assert.ok(hits.length >= 5, `hits of the first scan: ${hits.length}`);
  assert.equal(second.chunks[0]!.slice(0, hits.length), hits);
  const rest = (c: string[][]) => c.flat().filter((sym) => !hits.includes(sym));
  assert.equal(rest(second.chunks), rest(first.chunks));
  assert.equal(second.chunks.map((c) => c.length), [32, 40, 40, 40, 40, 40, 40, 28]);
  assert.equal(
    second.got.slice(0, hits.length).map((x) => x.chunk),
    hits.map(() => 0),
    "the second scan's first results all come from its first chunk",
  );
  // The same hits (now best first): the same symbols first, and the same order after them.
  assert.equal(third.chunks[0]!.slice(0, hits.length).sort(), [...hits].sort());
  assert.equal(rest(third.chunks), rest(second.chunks));
  version++;
  await scan();
  assert.is(listed, 2, "listed again once the version moved");
  // A service restarted over the journal reads the definitions back (the chunks were journaled
  // from their kept encoding).
  service.close();
  const again = new ScanService({ ...options, bus: new InProcessBus() });
  await again.start();
  for (const scanId of ["scan1", "scan2", "scan3", "scan4"]) {
    assert.equal(again.stats(scanId)?.symbols_total, 300, scanId);
    assert.equal(again.stats(scanId)?.state, "done", scanId);
  }
  again.close();
  worker.stop();
  await bus.close();
});

test("on a live market only the symbols whose bars moved get their priority again, and the chunks equal a fresh ordering", async () => {
  const u = universe(300);
  let version = 1, looked = 0;
  const marks = new Map([...u.keys()].map((s) => [s, 1]));
  const live: BarsSource = {
    symbols: () => [...u.keys()],
    bars: (symbol, bar) => (looked++, bar === "1m" ? u.get(symbol) : undefined),
    version: () => version,
    mark: (symbol) => marks.get(symbol) ?? -1,
  };
  const bus = new InProcessBus();
  const journals = memoryScanJournals();
  let id = 0;
  const options = { bus, journals, bars: live, chunk_symbols: 40, newId: () => `scan${++id}` };
  const service = new ScanService(options);
  const worker = new ScanWorker({ bus, bars: source(u), id: "w" });
  await service.start();
  worker.start();
  const scan = async (s: ScanService) => {
    const { scanId } = await s.startScan({ criteria: CRITERIA, rank: RANK });
    await until(() => s.stats(scanId)?.state === "done", 10_000, `${scanId} done`);
    const r = recorder();
    s.subscribe(scanId, 0, r.listener);
    assert.equal(new Map(r.got.map((x) => [x.symbol, x.rank])), expected(u), scanId);
    const def = [];
    for await (const rec of (await journals.open(scanId)).read(`scan/${scanId}`)) {
      def.push(decodeValue(rec.data));
    }
    return {
      chunks: (def[0] as { chunks: string[][] }).chunks,
      hits: r.got.slice(0, FIRST_CHUNK_SYMBOLS).map((x) => x.symbol),
    };
  };
  // A scan's chunks put the previous scan's hits first (`hits`), the rest in priority order.
  const rest = (chunks: string[][], hits: string[]) => {
    assert.equal(chunks[0]!.slice(0, hits.length), hits);
    return chunks.flat().filter((sym) => !hits.includes(sym));
  };
  const { hits: hits1 } = await scan(service);
  assert.is(looked, 300, "the first scan reads every symbol's bars for its priority");
  // New bars for 12 symbols, spread over the order (new random walks move them far).
  const moved = [...u.keys()].filter((_, i) => i % 25 === 3);
  for (const [k, sym] of moved.entries()) {
    u.set(sym, randomBars(120, 900_000 + k));
    marks.set(sym, 2);
  }
  version++;
  looked = 0;
  const { chunks, hits: hits2 } = await scan(service);
  assert.is(looked, moved.length, "only the moved symbols read again");
  // The same order as a service that orders the changed market from scratch.
  const fresh = new ScanService({ ...options, newId: () => `fresh${++id}` });
  await fresh.start();
  looked = 0;
  const { chunks: freshChunks } = await scan(fresh);
  assert.equal(rest(chunks, hits1), freshChunks.flat().filter((sym) => !hits1.includes(sym)));
  assert.is(looked, 300);
  // Nothing moved but the version did (a channel's tick): no bars read, the same order.
  version++;
  looked = 0;
  const { chunks: again } = await scan(service);
  assert.equal(rest(again, hits2), freshChunks.flat().filter((sym) => !hits2.includes(sym)));
  assert.is(looked, 0);
  fresh.close();
  service.close();
  worker.stop();
  await bus.close();
});

test("with a source that says which symbols changed, a live market's order looks at those only, and equals a fresh ordering", async () => {
  const u = universe(300);
  let version = 1, looked = 0, marked = 0;
  const marks = new Map([...u.keys()].map((s) => [s, 1]));
  const changes: string[] = [];
  const symbols = [...u.keys()];
  const live: BarsSource = {
    symbols: () => symbols,
    bars: (symbol, bar) => (looked++, bar === "1m" ? u.get(symbol) : undefined),
    version: () => version,
    mark: (symbol) => (marked++, marks.get(symbol) ?? -1),
    // The version counts the changes: `changes[v - 1]` is change v.
    changedSince: (at) => changes.slice(at - 1),
  };
  const bus = new InProcessBus();
  const journals = memoryScanJournals();
  let id = 0;
  const options = { bus, journals, bars: live, chunk_symbols: 40, newId: () => `scan${++id}` };
  const service = new ScanService(options);
  const worker = new ScanWorker({ bus, bars: source(u), id: "w" });
  await service.start();
  worker.start();
  // A criteria nothing matches: no recent hits, so the chunks are the priority order alone.
  const scan = async (s: ScanService) => {
    const { scanId } = await s.startScan({ criteria: "close < 0" });
    await until(() => s.stats(scanId)?.state === "done", 10_000, `${scanId} done`);
    const def = [];
    for await (const rec of (await journals.open(scanId)).read(`scan/${scanId}`)) {
      def.push(decodeValue(rec.data));
    }
    return (def[0] as { chunks: string[][] }).chunks;
  };
  await scan(service);
  assert.is(marked, 300);
  // 12 symbols get new bars; one of them is named twice, and a symbol not in the universe once.
  const moved = symbols.filter((_, i) => i % 25 === 7);
  for (const [k, sym] of moved.entries()) {
    u.set(sym, randomBars(120, 700_000 + k));
    marks.set(sym, 2);
    changes.push(sym);
    version++;
  }
  changes.push(moved[0]!, "ZZZ");
  version += 2;
  marked = looked = 0;
  const chunks = await scan(service);
  assert.is(marked, moved.length + 1, "marks looked at: the changed symbols (one named twice)");
  assert.is(looked, moved.length, "priorities computed: the moved symbols");
  const fresh = new ScanService({ ...options, newId: () => `fresh${++id}` });
  await fresh.start();
  assert.equal(await scan(fresh), chunks);
  fresh.close();
  service.close();
  worker.stop();
  await bus.close();
});

/**
 * A source over `universe(n)` whose columns (one object per symbol, as the bars actors' rings
 * give) note which symbols had their bars read, i.e. had a priority computed.
 */
function readingSource(n: number) {
  const u = universe(n);
  const inner = source(u);
  const read = new Set<string>();
  const wrapped = new Map<string, ReturnType<BarsSource["bars"]>>();
  const bars: BarsSource = {
    symbols: () => inner.symbols(),
    version: () => 1,
    bars(symbol, bar) {
      const c = inner.bars(symbol, bar);
      if (c === undefined) return undefined;
      let w = wrapped.get(symbol);
      if (w === undefined) {
        w = {} as NonNullable<typeof w>;
        for (const k of Object.keys(c) as (keyof typeof c)[]) {
          Object.defineProperty(w, k, { get: () => (read.add(symbol), c[k]) });
        }
        wrapped.set(symbol, w);
      }
      return w;
    },
  };
  return { u, bars, read };
}

/** The chunks a scan's definition journaled. */
async function journaledChunks(journals: ReturnType<typeof memoryScanJournals>, scanId: string) {
  const journal = await journals.open(scanId);
  for await (const rec of journal.read(`scan/${scanId}`)) {
    return (decodeValue(rec.data) as { chunks: string[][] }).chunks;
  }
  throw new Error(`no definition journaled for ${scanId}`);
}

test("a warm-up orders the universe in slices that yield to the event loop, and the next scan starts from it without computing a priority, with the same chunks", async () => {
  const n = 2 * WARM_SLICE_SYMBOLS + 200;
  const { bars, read } = readingSource(n);
  const bus = new InProcessBus();
  const journals = memoryScanJournals();
  const service = new ScanService({ bus, journals, bars, newId: () => "warmed" });
  await service.start();
  // Timers set while it runs fire between its slices: what had been read at each.
  const seen: number[] = [];
  let warming = true;
  const tick = () => {
    seen.push(read.size);
    if (warming) setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  await service.warm(["1m"]);
  warming = false;
  assert.is(read.size, n, "every symbol's priority computed");
  assert.ok(
    seen.some((k) => k > 0 && k < n),
    `timers ran mid-warm-up (read when they ran: ${seen.join(" ")})`,
  );
  read.clear();
  const { scanId } = await service.startScan({ criteria: CRITERIA, rank: RANK });
  assert.is(read.size, 0, "no priority computed on the scan's path");
  // A service without the warm-up cuts the same chunks.
  const cold = new ScanService({ bus: new InProcessBus(), journals, bars, newId: () => "cold" });
  await cold.startScan({ criteria: CRITERIA, rank: RANK });
  assert.equal(await journaledChunks(journals, scanId), await journaledChunks(journals, "cold"));
  service.close();
  cold.close();
  await bus.close();
});

test("a scan that comes mid-warm-up computes only the priorities not done yet, and the warm-up then computes none again", async () => {
  const n = 2 * WARM_SLICE_SYMBOLS + 200;
  const { bars, read } = readingSource(n);
  const bus = new InProcessBus();
  const journals = memoryScanJournals();
  const service = new ScanService({ bus, journals, bars, newId: () => "early" });
  await service.start();
  const warmed = service.warm(["1m"]);
  while (read.size === 0) await new Promise((r) => setTimeout(r, 0));
  const before = new Set(read);
  assert.ok(before.size < n, `mid-warm-up: ${before.size} of ${n} read`);
  read.clear();
  await service.startScan({ criteria: CRITERIA, rank: RANK });
  assert.is(read.size, n - before.size, "the scan computed the rest");
  assert.ok([...read].every((s) => !before.has(s)), "and none done already");
  read.clear();
  await warmed;
  assert.is(read.size, 0, "the warm-up found them done");
  // Closed mid-way, a warm-up ends at its next slice.
  const other = new ScanService({ bus, journals, bars: readingSource(n).bars });
  const ending = other.warm(["1m"]);
  other.close();
  await ending;
  service.close();
  await bus.close();
});

test.run();
