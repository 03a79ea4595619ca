import { suite } from "uvu";
import * as assert from "uvu/assert";
import { InProcessBus, MemoryJournal } from "../../../actors/runtime/mod.ts";
import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  decodeScanResultsBatch,
  decodeScanWork,
  decodeValue,
  encodeValue,
  SCAN_WORK_QUEUE,
  SCAN_WORK_SUBJECT,
  scanPattern,
  scanSubject,
} from "../../../protocol/mod.ts";
import { tempDir } from "../../_support/nats.ts";
import {
  fileScanJournals,
  memoryScanJournals,
  parseScanRequest,
  ScanService,
  ScanWorker,
} from "../../../actors/scan/mod.ts";
import { CRITERIA, expected, RANK, source, universe, until } from "./_scan_setup.ts";
import { recorder, setup, teardown } from "./_scan_service_setup.ts";

const test = suite("ScanService");

test("a scan streams every matching symbol once, numbered 1..N, with its rank, and ends done", async () => {
  const s = setup(600);
  await s.service.start();
  s.workers.forEach((w) => w.start());
  const { scanId } = await s.service.startScan({
    criteria: CRITERIA,
    rank: RANK,
    universe: [...s.u.keys(), "NOPE"],
  });
  const r = recorder();
  s.service.subscribe(scanId, 0, r.listener);
  await until(() => r.ended !== undefined, 10_000, "the scan's end");
  const want = expected(s.u);
  assert.ok(want.size > 15, `${want.size} matches`);
  assert.equal(r.got.map((x) => x.seq), Array.from({ length: want.size }, (_, i) => i + 1));
  assert.equal(new Map(r.got.map((x) => [x.symbol, x.rank])), want);
  const stats = r.ended!;
  assert.is(stats.state, "done");
  assert.is(stats.symbols_total, 601);
  assert.is(stats.symbols_done, 601);
  assert.is(stats.signals, want.size);
  assert.is(stats.unknown_symbols, 1);
  assert.is(stats.insufficient_history, [...s.u.keys()].filter((_, i) => i % 97 === 5).length);
  assert.ok(stats.first_result_ms !== null && stats.first_result_ms >= 0);
  assert.ok(s.workers.every((w) => w.chunks > 0), "both workers took chunks");
  assert.equal(s.service.stats(scanId), stats);
  assert.equal(s.service.active(), []);
  await teardown(s);
});

test("a late subscriber gets what it missed from its sequence number, then nothing twice", async () => {
  const s = setup(400);
  await s.service.start();
  const { scanId } = await s.service.startScan({ criteria: CRITERIA, rank: RANK });
  const early = recorder();
  s.service.subscribe(scanId, 0, early.listener);
  s.workers.forEach((w) => w.start());
  await until(() => early.got.length >= 5, 5000, "five results");
  const late = recorder();
  const from = early.got[2]!.seq;
  s.service.subscribe(scanId, from, late.listener);
  await until(() => early.ended !== undefined && late.ended !== undefined, 10_000, "the end");
  assert.equal(late.got, early.got.slice(3));
  const after = recorder();
  s.service.subscribe(scanId, 0, after.listener);
  assert.equal(after.got, early.got);
  assert.is(after.ended?.state, "done");
  await teardown(s);
});

test("chunks go out in priority order, the first small and doubling, one in flight at first", async () => {
  const s = setup(300, { workers: 1, chunk_symbols: 100 });
  const sent: string[][] = [];
  let inflightAtSecond = -1;
  s.bus.subscribe(SCAN_WORK_SUBJECT, (m) => {
    const { symbols } = JSON.parse(JSON.stringify(decodeScanWork(m.data)));
    if (sent.length === 1) inflightAtSecond = s.workers[0]!.chunks;
    sent.push(symbols);
  });
  await s.service.start();
  s.workers.forEach((w) => w.start());
  const { scanId } = await s.service.startScan({
    criteria: "close > 0",
    priority: "return(1) * 0 + close",
  });
  const r = recorder();
  s.service.subscribe(scanId, 0, r.listener);
  await until(() => r.ended !== undefined, 10_000, "the end");
  assert.equal(sent.map((c) => c.length), [32, 64, 100, 100, 4]);
  assert.is(inflightAtSecond, 1, "the second chunk went out once the first was back");
  const closes = sent.flat().map((sym) => s.u.get(sym)!.close.at(-1)!);
  const sorted = [...s.u.values()].map((b) => b.close.at(-1)!).sort((a, b) => b - a);
  assert.equal(closes, sorted, "every chunk in priority order: the highest closes first");
  await teardown(s);
});

test("max_signals ends the scan with exactly that many results", async () => {
  const s = setup(600);
  await s.service.start();
  s.workers.forEach((w) => w.start());
  const { scanId } = await s.service.startScan({ criteria: CRITERIA, max_signals: 7 });
  const r = recorder();
  s.service.subscribe(scanId, 0, r.listener);
  await until(() => r.ended !== undefined, 10_000, "the end");
  assert.is(r.got.length, 7);
  assert.is(r.ended!.state, "stopped");
  assert.is(r.ended!.stop_reason, "max_signals");
  await new Promise((res) => setTimeout(res, 50));
  assert.is(r.got.length, 7, "nothing after the end");
  await teardown(s);
});

test("a stop request ends the scan; stop, stats and delete of an unknown scan say so", async () => {
  const s = setup(200, { workers: 0 });
  await s.service.start();
  const { scanId } = await s.service.startScan({ criteria: CRITERIA });
  assert.is(s.service.active().length, 1);
  const r = recorder();
  const unsubscribe = s.service.subscribe(scanId, 0, r.listener)!;
  assert.ok(await s.service.stopScan(scanId));
  assert.is(r.ended?.state, "stopped");
  assert.is(r.ended?.stop_reason, "requested");
  unsubscribe();
  assert.ok(await s.service.deleteScan(scanId));
  assert.is(s.service.stats(scanId), undefined);
  assert.not.ok(await s.service.stopScan("nope"));
  assert.not.ok(await s.service.deleteScan("nope"));
  assert.is(s.service.subscribe("nope", 0, r.listener), undefined);
  await teardown(s);
});

test("timeout_ms stops a scan whose chunks do not come back", async () => {
  const s = setup(100, { workers: 0 });
  await s.service.start();
  const { scanId } = await s.service.startScan({ criteria: CRITERIA, timeout_ms: 150 });
  const r = recorder();
  s.service.subscribe(scanId, 0, r.listener);
  await until(() => r.ended !== undefined, 3000, "the timeout");
  assert.is(r.ended!.stop_reason, "timeout");
  assert.ok(r.ended!.elapsed_ms >= 150, `${r.ended!.elapsed_ms} ms`);
  await teardown(s);
});

test("a worker that dies mid-chunk: its chunks are taken again and no result is doubled", async () => {
  const s = setup(500, { chunk_timeout_ms: 100, workers: 1 });
  // A member of the queue group that takes every other chunk and never answers.
  let swallowed = 0;
  s.bus.subscribe(SCAN_WORK_SUBJECT, () => void swallowed++, { queue: SCAN_WORK_QUEUE });
  // And every result message delivered twice, as a redelivery would.
  s.bus.subscribe("troupe.scan.*.chunk", (m) => {
    if (!m.headers?.dup) s.bus.publish(m.subject, m.data, { headers: { dup: "1" } });
  });
  await s.service.start();
  s.workers.forEach((w) => w.start());
  const { scanId } = await s.service.startScan({ criteria: CRITERIA, rank: RANK });
  const r = recorder();
  s.service.subscribe(scanId, 0, r.listener);
  await until(() => r.ended !== undefined, 20_000, "the end");
  assert.ok(swallowed >= 3, `${swallowed} chunks swallowed`);
  const want = expected(s.u);
  assert.is(r.got.length, want.size);
  assert.equal(new Map(r.got.map((x) => [x.symbol, x.rank])), want);
  assert.ok(s.service.dropped >= 10, `${s.service.dropped} copies dropped`);
  await teardown(s);
});

test("live stats: done of total, signals, time to the first result, symbols/s and ETA by the service's clock", async () => {
  const u = universe(200);
  const bus = new InProcessBus();
  let clock = 1_700_000_000_000;
  const service = new ScanService({
    bus,
    bars: source(u),
    chunk_symbols: 100,
    newId: () => "live",
    now: () => clock,
  });
  // A worker whose chunks wait until the test lets them run.
  const held: Array<() => void> = [];
  const worker = new ScanWorker({
    bus,
    bars: source(u),
    id: "w",
    defer: (run) => void held.push(run),
  });
  await service.start();
  worker.start();
  const { scanId } = await service.startScan({ criteria: "close > 0" });
  await until(() => held.length === 1, 5000, "the first chunk at the worker");
  const view = (s = service.stats(scanId)!) => [
    s.state,
    s.symbols_done,
    s.symbols_total,
    s.signals,
    s.first_result_ms,
    s.symbols_per_s,
    s.eta_ms,
  ];
  assert.equal(view(), ["running", 0, 200, 0, null, 0, null], "nothing done yet");
  clock += 400;
  held.shift()!();
  await until(() => service.stats(scanId)!.chunks_done === 1, 5000, "the first chunk back");
  // The first chunk holds 32 symbols, all matching: 80 symbols/s, 168 left, 2.1 s to go.
  const first = service.stats(scanId)!;
  assert.equal(view(first).slice(0, 6), ["running", 32, 200, 32, 400, 80]);
  assert.ok(Math.abs(first.eta_ms! - 2100) < 1e-6, `eta ${first.eta_ms} ms`);
  clock += 600;
  assert.ok(
    Math.abs(service.stats(scanId)!.symbols_per_s - 32) < 1e-9,
    "the rate falls as time passes",
  );
  while (service.stats(scanId)!.state === "running") {
    clock += 100;
    held.splice(0).forEach((run) => run());
    await new Promise((r) => setTimeout(r, 1));
  }
  const end = service.stats(scanId)!;
  assert.equal(view(end).slice(0, 5), ["done", 200, 200, 200, 400]);
  assert.is(end.eta_ms, null, "no ETA once ended");
  assert.is(end.symbols_per_s, (200 * 1000) / end.elapsed_ms);
  service.close();
  worker.stop();
  await bus.close();
});

test("a stop request is journaled: a service restarted over the journal has the scan stopped with what it found, and sends no chunk", async () => {
  const u = universe(300);
  const bus = new InProcessBus();
  const journals = memoryScanJournals();
  const options = { bus, journals, bars: source(u), chunk_symbols: 50, inflight_max: 1 };
  const a = new ScanService({ ...options, newId: () => "s1" });
  await a.start();
  // A worker that scans a chunk only when the test lets it: two, then the stop.
  const held: Array<() => void> = [];
  const worker = new ScanWorker({
    bus,
    bars: source(u),
    id: "w",
    defer: (run) => void held.push(run),
  });
  worker.start();
  const { scanId } = await a.startScan({ criteria: "close > 0" });
  const first = recorder();
  a.subscribe(scanId, 0, first.listener);
  for (let done = 1; done <= 2; done++) {
    await until(() => held.length > 0, 5000, `chunk ${done} at the worker`);
    held.shift()!();
    await until(() => a.stats(scanId)!.chunks_done === done, 5000, `chunk ${done} back`);
  }
  worker.stop();
  assert.ok(await a.stopScan(scanId));
  const before = a.stats(scanId)!;
  assert.equal([before.state, before.stop_reason], ["stopped", "requested"]);
  assert.ok(before.symbols_done < 300, `${before.symbols_done} done`);
  a.close(); // the crash
  // What `a` sent while the scan ran (its third chunk, out once the second was back) is delivered
  // on a later turn, as NATS would: it arrives before the count starts, not after.
  await bus.flush();
  let sent = 0;
  bus.subscribe(SCAN_WORK_SUBJECT, () => void sent++);
  // b's clock and its check of late chunks and timeouts, run by the test.
  let clock = Date.now(), check = () => {};
  const timers = { setInterval: (f: () => void) => (check = f), clearInterval: () => {} };
  const b = new ScanService({ ...options, newId: () => "s2", now: () => clock, timers });
  await b.start();
  assert.equal(b.stats(scanId), before, "the same stats after the restart");
  const replayed = recorder();
  b.subscribe(scanId, 0, replayed.listener);
  assert.equal(replayed.got, first.got);
  assert.is(replayed.ended?.state, "stopped");
  clock += 3_600_000; // an hour on: any chunk out would be late and sent again
  check();
  await bus.flush();
  assert.is(sent, 0, "no chunk sent for a stopped scan");
  assert.equal(b.active(), []);
  b.close();
  await bus.close();
});

test("a service restarted over the scan's journal numbers every result as before and finishes it", async () => {
  const u = universe(500, 2);
  const bus = new InProcessBus();
  const journals = memoryScanJournals();
  const a = new ScanService({
    bus,
    journals,
    bars: source(u),
    chunk_symbols: 20,
    inflight_max: 1,
    newId: () => "s1",
  });
  await a.start();
  const { scanId } = await a.startScan({ criteria: CRITERIA, rank: RANK });
  const first = recorder();
  a.subscribe(scanId, 0, first.listener);
  const worker = new ScanWorker({ bus, bars: source(u), id: "w" });
  worker.start();
  await until(() => first.got.length >= 10, 5000, "ten results");
  worker.stop();
  a.close(); // the crash: a's in-memory state is gone, the journal stays
  const seen = first.got.length;
  await bus.flush(); // what a published, delivered before the count starts
  const published: number[] = [];
  bus.subscribe(scanPattern("results"), (m) => {
    for (const r of decodeScanResultsBatch(m.data, m.subject)) published.push(r.seq);
  });
  const b = new ScanService({
    bus,
    journals,
    bars: source(u),
    chunk_symbols: 20,
    newId: () => "s2",
  });
  await b.start();
  assert.ok(b.stats(scanId)!.chunks_done > 0);
  const replayed = recorder();
  b.subscribe(scanId, 0, replayed.listener);
  assert.equal(
    replayed.got.slice(0, seen),
    first.got.slice(0, seen),
    "the same numbers after recovery",
  );
  const resumed = recorder();
  b.subscribe(scanId, first.got.at(-1)!.seq, resumed.listener);
  worker.start();
  await until(() => resumed.ended !== undefined, 10_000, "the end after recovery");
  const all = [...first.got, ...resumed.got];
  assert.equal(all.map((x) => x.seq), Array.from({ length: all.length }, (_, i) => i + 1));
  assert.equal(new Map(all.map((x) => [x.symbol, x.rank])), expected(u));
  await bus.flush();
  assert.equal(
    published,
    resumed.got.map((x) => x.seq),
    "the results found after the restart published once each, none of those before it again",
  );
  assert.is(resumed.ended!.state, "done");
  worker.stop();
  b.close();
  await bus.close();
});

test("a journal that refuses a record fails the scan, and its subscribers are told", async () => {
  const u = universe(200, 5);
  const bus = new InProcessBus();
  class FullJournal extends MemoryJournal {
    override append(stream: string, data: Uint8Array | readonly Uint8Array[]): number {
      if (this.lastPosition(stream) >= 3) throw new Error("disk full");
      return super.append(stream, data);
    }
  }
  const service = new ScanService({
    bus,
    journals: { ...memoryScanJournals(), open: () => Promise.resolve(new FullJournal()) },
    bars: source(u),
    chunk_symbols: 20,
    newId: () => "f",
  });
  await service.start();
  const worker = new ScanWorker({ bus, bars: source(u), id: "w" });
  worker.start();
  const { scanId } = await service.startScan({ criteria: CRITERIA });
  const r = recorder();
  service.subscribe(scanId, 0, r.listener);
  await until(() => r.ended !== undefined, 5000, "the failure");
  assert.is(r.ended!.state, "failed");
  assert.is(r.ended!.error, "journal: disk full");
  assert.is(r.ended!.chunks_done, 1);
  worker.stop();
  service.close();
  await bus.close();
});

test("a scan is admitted before its journal is open: chunks go out once the definition and start are journaled, and a journal that cannot open fails the scan and is removed", async () => {
  const u = universe(100);
  const bus = new InProcessBus();
  let sent = 0;
  bus.subscribe(SCAN_WORK_SUBJECT, () => void sent++);
  const memory = memoryScanJournals(), removed: string[] = [];
  let opened: (j: MemoryJournal) => void = () => {};
  const journals = {
    ...memory,
    open: (scanId: string) =>
      scanId === "held"
        ? new Promise<MemoryJournal>((r) => (opened = r))
        : Promise.reject(new Error("no space left")),
    remove: (scanId: string) => (removed.push(scanId), memory.remove(scanId)),
  };
  const ids = ["held", "refused"];
  const service = new ScanService({ bus, journals, bars: source(u), newId: () => ids.shift()! });
  await service.start();
  const worker = new ScanWorker({ bus, bars: source(u), id: "w" });
  worker.start();
  const { scanId } = await service.startScan({ criteria: CRITERIA, rank: RANK });
  assert.is(scanId, "held");
  await new Promise((r) => setTimeout(r, 20));
  assert.is(service.stats(scanId)?.state, "queued", "admitted, its journal not open yet");
  assert.is(sent, 0, "no chunk out before the journal has the definition");
  const journal = new MemoryJournal();
  opened(journal);
  await until(() => service.stats(scanId)?.state === "done", 5000, "the held scan done");
  const kinds = [];
  for await (const rec of journal.read("scan/held")) {
    kinds.push((decodeValue(rec.data) as { k: string }).k);
  }
  assert.equal(kinds.slice(0, 2), ["def", "start"]);
  assert.ok(kinds.slice(2).every((k) => k === "chunk") && kinds.length > 2, kinds.join());
  const r = recorder();
  service.subscribe(scanId, 0, r.listener);
  assert.equal(new Map(r.got.map((x) => [x.symbol, x.rank])), expected(u));
  // A journal that cannot be opened: the scan fails, says why, and is removed; no chunk out.
  sent = 0;
  const { scanId: bad } = await service.startScan({ criteria: CRITERIA });
  const told = recorder();
  service.subscribe(bad, 0, told.listener);
  await until(() => told.ended !== undefined, 5000, "the refused scan's end");
  assert.is(told.ended!.state, "failed");
  assert.is(told.ended!.error, "journal: no space left");
  await until(() => removed.includes(bad), 5000, "its journal removed");
  assert.is(sent, 0);
  worker.stop();
  service.close();
  await bus.close();
});

test("a worker given chunks together scans one per turn of the event loop: the first one's results leave before the last is scanned", async () => {
  const u = universe(200);
  const bus = new InProcessBus();
  const worker = new ScanWorker({ bus, bars: source(u), id: "w" });
  worker.start();
  const def = parseScanRequest({ criteria: CRITERIA, rank: RANK });
  const symbols = [...u.keys()];
  const scannedWhenBack: number[] = [];
  bus.subscribe(scanSubject("s1", "chunk"), () => void scannedWhenBack.push(worker.chunks));
  for (let chunk = 0; chunk < 4; chunk++) {
    const work = { scanId: "s1", chunk, attempt: 0, symbols: symbols.slice(50 * chunk), def };
    bus.publish(SCAN_WORK_SUBJECT, encodeValue(work));
  }
  await until(() => scannedWhenBack.length === 4, 5000, "four chunks back");
  assert.ok(scannedWhenBack[0]! < 4, `chunks scanned when the first came back: ${scannedWhenBack}`);
  worker.stop();
  await bus.close();
});

test("a deleted scan's journal is deleted: its directory goes, and a restart brings back the scans kept but not it", async () => {
  const u = universe(300, 3);
  const dir = tempDir();
  const bus = new InProcessBus();
  const worker = new ScanWorker({ bus, bars: source(u), id: "w" });
  worker.start();
  let id = 0;
  const open = () => {
    const journals = fileScanJournals(dir.path, { fsync: "never" });
    const service = new ScanService({
      bus,
      journals,
      bars: source(u),
      chunk_symbols: 50,
      newId: () => `scan${++id}`,
    });
    return { journals, service };
  };
  try {
    let { journals, service } = open();
    await service.start();
    const ids: string[] = [];
    for (let k = 0; k < 3; k++) {
      const { scanId } = await service.startScan({ criteria: CRITERIA, rank: RANK });
      await until(() => service.stats(scanId)?.state === "done", 10_000, `${scanId} done`);
      ids.push(scanId);
    }
    const kept = recorder();
    service.subscribe("scan1", 0, kept.listener);
    assert.equal(readdirSync(dir.path).sort(), ids);
    const bytes = (scanId: string) =>
      readdirSync(join(dir.path, scanId)).reduce(
        (n, f) => n + statSync(join(dir.path, scanId, f)).size,
        0,
      );
    await (await journals.open("scan2")).sync();
    assert.ok(bytes("scan2") > 3000, `scan2's journal holds ${bytes("scan2")} bytes`);
    assert.is(await service.deleteScan("scan2"), true);
    assert.is(service.stats("scan2"), undefined);
    assert.equal(readdirSync(dir.path).sort(), ["scan1", "scan3"], "scan2's directory is gone");
    assert.is(await service.deleteScan("scan2"), false);
    service.close();
    await journals.close();
    // What a crash leaves: a delete cut short, and a scan made whose definition never got in.
    mkdirSync(join(dir.path, "scan9.deleted"));
    writeFileSync(join(dir.path, "scan9.deleted", "x"), "left over");
    mkdirSync(join(dir.path, "scan8"));
    ({ journals, service } = open());
    await service.start();
    assert.equal(readdirSync(dir.path).sort(), ["scan1", "scan3"], "leftovers removed at start");
    assert.is(service.stats("scan2"), undefined, "a deleted scan does not come back");
    assert.is(service.stats("scan3")?.state, "done");
    const again = recorder();
    service.subscribe("scan1", 0, again.listener);
    assert.equal(again.got, kept.got, "a kept scan's results, as they were");
    assert.ok(kept.got.length > 10);
    service.close();
    await journals.close();
  } finally {
    worker.stop();
    await bus.close();
    dir.remove();
  }
});

test("with spare_journal, a scan's journal is made ahead while the service is idle: its admission opens none, and a spare left unused is removed at the next start", async () => {
  const u = universe(200, 4);
  const dir = tempDir();
  const bus = new InProcessBus();
  const worker = new ScanWorker({ bus, bars: source(u), id: "w" });
  worker.start();
  let id = 0;
  const opened: string[] = [];
  const make = (spare: boolean) => {
    const files = fileScanJournals(dir.path, { fsync: "never" });
    const journals = {
      ...files,
      open: (scanId: string) => (opened.push(scanId), files.open(scanId)),
    };
    const service = new ScanService({
      bus,
      journals,
      bars: source(u),
      chunk_symbols: 50,
      newId: () => `scan${++id}`,
      spare_journal: spare,
    });
    return { journals, service };
  };
  try {
    let { journals, service } = make(true);
    await service.start();
    await until(() => opened.length === 1, 5000, "the spare made after the start");
    for (const k of [1, 2]) {
      const { scanId } = await service.startScan({ criteria: CRITERIA, rank: RANK });
      assert.is(scanId, `scan${k}`);
      assert.is(opened.length, k, "no journal opened on the scan's admission");
      await until(() => service.stats(scanId)?.state === "done", 10_000, `${scanId} done`);
      await until(() => opened.length === k + 1, 5000, "the next spare, after the end");
    }
    assert.equal(opened, ["scan1", "scan2", "scan3"]);
    const r = recorder();
    service.subscribe("scan2", 0, r.listener);
    assert.equal(new Map(r.got.map((x) => [x.symbol, x.rank])), expected(u));
    assert.equal(readdirSync(dir.path).sort(), ["scan1", "scan2", "scan3"], "the spare, empty");
    service.close();
    await journals.close();
    ({ journals, service } = make(false));
    await service.start();
    assert.equal(readdirSync(dir.path).sort(), ["scan1", "scan2"], "the unused spare removed");
    assert.is(service.stats("scan3"), undefined);
    assert.is(service.stats("scan2")?.state, "done");
    service.close();
    await journals.close();
  } finally {
    worker.stop();
    await bus.close();
    dir.remove();
  }
});

test.run();
