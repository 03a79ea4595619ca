/**
 * A scan across processes' connections through a real nats-server: the service on one connection,
 * two workers on two others sharing the troupe.scan.work queue group, and a watcher of
 * troupe.scan.<id>.results on a fourth.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { decodeScanResultsBatch, type ScanResult, scanSubject } from "../../../protocol/mod.ts";
import { NatsBus } from "../../../actors/runtime/mod.ts";
import { ScanService, ScanWorker } from "../../../actors/scan/mod.ts";
import { haveNatsServer, startTestNats } from "../../_support/nats.ts";
import { CRITERIA, expected, RANK, source, universe, until } from "./_scan_setup.ts";

const test = suite("scan over NATS");

if (haveNatsServer("scan over NATS")) {
  test("two workers on their own connections share the chunks; every result arrives once, in order", async () => {
    const server = await startTestNats();
    const buses = await Promise.all([0, 1, 2, 3].map(() => NatsBus.connect(server.url)));
    const [serviceBus, w1Bus, w2Bus, watchBus] = buses as [NatsBus, NatsBus, NatsBus, NatsBus];
    try {
      const u = universe(800, 3);
      const service = new ScanService({
        bus: serviceBus,
        bars: source(u),
        chunk_symbols: 40,
        newId: () => "natsscan",
      });
      await service.start();
      const workers = [
        new ScanWorker({ bus: w1Bus, bars: source(u), id: "w1" }),
        new ScanWorker({ bus: w2Bus, bars: source(u), id: "w2" }),
      ];
      workers.forEach((w) => w.start());
      const watched: ScanResult[] = [];
      watchBus.subscribe(
        scanSubject("natsscan", "results"),
        (m) => watched.push(...decodeScanResultsBatch(m.data, m.subject)),
      );
      await Promise.all(buses.map((b) => b.flush()));
      const { scanId } = await service.startScan({ criteria: CRITERIA, rank: RANK });
      const got: ScanResult[] = [];
      let end: string | undefined;
      service.subscribe(scanId, 0, {
        result: (r) => void got.push(r),
        end: (s) => void (end = s.state),
      });
      await until(() => end !== undefined, 15_000, "the scan's end");
      const want = expected(u);
      assert.is(end, "done");
      assert.equal(got.map((r) => r.seq), Array.from({ length: want.size }, (_, i) => i + 1));
      assert.equal(new Map(got.map((r) => [r.symbol, r.rank])), want);
      assert.ok(
        workers[0]!.chunks > 0 && workers[1]!.chunks > 0,
        `chunks ${workers[0]!.chunks} and ${workers[1]!.chunks}`,
      );
      assert.is(workers[0]!.chunks + workers[1]!.chunks, service.stats(scanId)!.chunks_total);
      await until(() => watched.length === got.length, 5000, "the watcher");
      assert.equal(watched, got);
      workers.forEach((w) => w.stop());
      service.close();
    } finally {
      for (const b of buses) await b.close();
      await server.cleanup();
    }
  });
}

test.run();
