/**
 * Scans across a partitioned cluster, on an in-process bus: the cut of a universe into chunks of
 * one partition each, and services whose hosts each hold only their partitions' symbols (the
 * end-to-end test over a real nats-server is in scan_host.test.ts): every symbol of every answering
 * partition scanned once, a listed symbol held nowhere counted unknown, a partition without a host
 * named, and a crashed scan resumed with the same numbers, still naming it.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { BarColumns } from "../../../actors/indicators/mod.ts";
import { InProcessBus, partitionOf } from "../../../actors/runtime/mod.ts";
import { memoryScanJournals, ScanService, ScanWorker } from "../../../actors/scan/mod.ts";
import { cutByPartition } from "../../../actors/scan/_partitioned_scans.ts";
import { CRITERIA, expected, RANK, source, universe, until } from "./_scan_setup.ts";
import { recorder } from "./_scan_service_setup.ts";
import { scanPartitionWorkSubject, scanSymbolsSubject } from "../../../protocol/mod.ts";

const COUNT = 3;
let scans = 0;

test("cutByPartition: each chunk holds one partition's symbols in the order's order, sizes doubling per partition up to the most, chunks in the order of their first symbol", () => {
  const order = [...universe(300).keys()].reverse();
  const chunks = cutByPartition(order, COUNT, 4, 16);
  assert.equal(chunks.flat().sort(), [...order].sort(), "every symbol once");
  const place = new Map(order.map((s, i) => [s, i]));
  const firsts = chunks.map((c) => place.get(c[0]!)!);
  assert.equal(firsts, [...firsts].sort((a, b) => a - b));
  for (let k = 0; k < COUNT; k++) {
    const mine = chunks.filter((c) => partitionOf(c[0]!, COUNT) === k);
    assert.ok(mine.flat().every((s) => partitionOf(s, COUNT) === k), `partition ${k}`);
    assert.equal(mine.flat(), order.filter((s) => partitionOf(s, COUNT) === k));
    const sizes = mine.map((c) => c.length);
    const want = sizes.map((_, i) => Math.min(16, 4 * 2 ** i));
    assert.equal(sizes.slice(0, -1), want.slice(0, -1));
    assert.ok(sizes.at(-1)! <= want.at(-1)!);
  }
  assert.equal(cutByPartition([], COUNT, 4, 16), []);
});

/** A host owning `owned`: a service and a worker over only its partitions' symbols. */
function host(
  bus: InProcessBus,
  u: Map<string, BarColumns>,
  owned: number[],
  journals = memoryScanJournals(),
  id = `h${owned.join("")}`,
  chunk_timeout_ms = 5000,
) {
  const held = new Map([...u].filter(([s]) => owned.includes(partitionOf(s, COUNT))));
  const service = new ScanService({
    bus,
    journals,
    bars: source(held),
    chunk_symbols: 20,
    inflight_max: 1,
    chunk_timeout_ms,
    newId: () => `${id}-scan${++scans}`,
    // Long enough that a loaded machine does not miss an answering partition (100 ms once named
    // all three missing under load); only the scan whose partitions' host is gone waits it out.
    partitions: { count: COUNT, owned, gather_timeout_ms: 1000 },
  });
  const worker = new ScanWorker({
    bus,
    bars: source(held),
    id,
    work_subjects: owned.map(scanPartitionWorkSubject),
  });
  return { service, worker, journals };
}

test("partitioned services: a scan covers every answering partition's symbols once; a listed symbol held nowhere is unknown; a partition without a host is named; a crashed scan resumes with the same numbers and still names it", async () => {
  const u = universe(400, 3);
  const bus = new InProcessBus();
  const a = host(bus, u, [0]);
  const b = host(bus, u, [1, 2]);
  for (const h of [a, b]) {
    h.worker.start();
    await h.service.start();
  }
  const universeListed = [...u.keys(), "NOPE"];
  const whole = await a.service.startScan({
    criteria: CRITERIA,
    rank: RANK,
    universe: universeListed,
  });
  assert.equal(whole.partitions_missing, []);
  const got = recorder();
  a.service.subscribe(whole.scanId, 0, got.listener);
  await until(() => got.ended !== undefined, 10_000, "the whole scan's end");
  assert.equal(new Map(got.got.map((r) => [r.symbol, r.rank])), expected(u));
  assert.equal(
    [got.ended!.state, got.ended!.symbols_done, got.ended!.unknown_symbols],
    ["done", u.size + 1, 1],
  );
  // Partitions 1 and 2's host gone: a scan on a names them and covers partition 0.
  b.service.close();
  b.worker.stop();
  const first = recorder();
  const { scanId, partitions_missing } = await a.service.startScan({
    criteria: CRITERIA,
    rank: RANK,
  });
  assert.equal(partitions_missing, [1, 2]);
  a.service.subscribe(scanId, 0, first.listener);
  await until(() => first.got.length >= 3, 5000, "three results");
  a.worker.stop();
  a.service.close(); // the crash: the journal stays
  const again = host(bus, u, [0], a.journals);
  await again.service.start();
  assert.equal(again.service.stats(scanId)!.partitions_missing, [1, 2]);
  const resumed = recorder();
  again.service.subscribe(scanId, 0, resumed.listener);
  again.worker.start();
  await until(() => resumed.ended !== undefined, 10_000, "the end after recovery");
  assert.equal(resumed.got.slice(0, first.got.length), first.got, "the same numbers");
  const onA = new Map([...expected(u)].filter(([s]) => partitionOf(s, COUNT) === 0));
  assert.equal(new Map(resumed.got.map((r) => [r.symbol, r.rank])), onA);
  assert.equal([resumed.ended!.state, resumed.ended!.partitions_missing], ["done", [1, 2]]);
  again.service.close();
  again.worker.stop();
  await bus.close();
});

test("a chunk whose partition's worker was not there is sent again to its partition's subject, and the scan completes", async () => {
  const u = universe(200, 4);
  const bus = new InProcessBus();
  const a = host(bus, u, [0], memoryScanJournals(), "ra", 100);
  const b = host(bus, u, [1, 2], memoryScanJournals(), "rb", 100);
  a.worker.start();
  await a.service.start();
  await b.service.start(); // it answers for partitions 1 and 2; its worker is not started yet
  const { scanId } = await a.service.startScan({ criteria: CRITERIA, rank: RANK });
  const got = recorder();
  a.service.subscribe(scanId, 0, got.listener);
  await new Promise((r) => setTimeout(r, 250));
  assert.is(got.ended, undefined, "partitions 1 and 2's chunks wait for their worker");
  b.worker.start();
  await until(() => got.ended !== undefined, 10_000, "the end");
  assert.equal(new Map(got.got.map((r) => [r.symbol, r.rank])), expected(u));
  assert.equal([got.ended!.state, got.ended!.unknown_symbols], ["done", 0]);
  for (const h of [a, b]) {
    h.service.close();
    h.worker.stop();
  }
  await bus.close();
});

test("a malformed symbols request is not answered and is counted as dropped", async () => {
  const bus = new InProcessBus();
  const a = host(bus, universe(20), [0, 1, 2]);
  await a.service.start();
  const before = a.service.dropped;
  const asked = bus.request(scanSymbolsSubject(1), new Uint8Array([0xc1]), { timeout: 50 });
  await assert.not.ok(await asked.then(() => true, () => false), "no answer");
  assert.is(a.service.dropped, before + 1);
  a.service.close();
  await bus.close();
});

test.run();
