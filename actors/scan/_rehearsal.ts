/**
 * A rehearsal of the scan path, run once when a host's scans start (after the priority orders are
 * warmed, see ScanService.warm): a scan service and a worker of their own, on an in-process bus of
 * their own with in-memory journals, scan the host's bars (read only) with a criteria reading
 * every indicator and operator of the language (warmUpCriteria), over up to `REHEARSAL_SYMBOLS`
 * symbols of each bar size, in chunks of `REHEARSAL_CHUNK_SYMBOLS`; a subscriber encodes each
 * result and the end as the WebSocket does; then the scans are deleted and the rest closed.
 * Nothing reaches the host's bus, journals or actors. What it leaves is compiled code: without
 * it, a host's first scan ran the request checks, the scan machine, the dispatch, the worker's
 * evaluation and the results' path cold (its first chunks many times slower than a repeated
 * scan's).
 * The worker scans a chunk per turn of the event loop, so the host serves meanwhile.
 */
import { InProcessBus } from "../runtime/mod.ts";
import type { BarsSource } from "./bars_source.ts";
import { memoryScanJournals } from "./scan_journals.ts";
import type { ScanStats } from "../../protocol/mod.ts";
import { ScanService } from "./scan_service.ts";
import { ScanWorker } from "./scan_worker.ts";
import { warmUpCriteria } from "./_warm_up_criteria.ts";

/** Symbols a rehearsal scans per bar size, at most: the first ones the source holds. */
export const REHEARSAL_SYMBOLS = 256;
/** Symbols per chunk of a rehearsal: the event loop turns after each. */
export const REHEARSAL_CHUNK_SYMBOLS = 32;

/** A rehearsal under way. */
export interface Rehearsal {
  /** Resolves with the symbols whose indicators were computed (held, with history enough). */
  done: Promise<number>;
  /** Ends it early: `done` resolves once the scan under way is dropped. */
  stop(): void;
}

/** Rehearses a scan of each bar size in `bars` over `source`'s bars. */
export function rehearseScans(source: BarsSource, bars: readonly string[]): Rehearsal {
  const bus = new InProcessBus();
  const worker = new ScanWorker({ bus, bars: source, id: "rehearsal" });
  let n = 0;
  const service = new ScanService({
    bus,
    bars: source,
    journals: memoryScanJournals(),
    chunk_symbols: REHEARSAL_CHUNK_SYMBOLS,
    newId: () => `rehearsal${++n}`,
  });
  let stopped = false;
  let wake = () => {};
  const stopping = new Promise<undefined>((resolve) => (wake = () => resolve(undefined)));
  const run = async () => {
    worker.start();
    await service.start();
    const { criteria, rank } = warmUpCriteria();
    const universe = source.symbols().slice(0, REHEARSAL_SYMBOLS);
    let evaluated = 0;
    for (const bar of bars) {
      if (stopped || universe.length === 0) break;
      const { scanId } = await service.startScan({ criteria, rank, bar, universe });
      const ended = new Promise<ScanStats>((resolve) => {
        service.subscribe(scanId, 0, {
          result: (r) => void JSON.stringify({ type: "result", ...r }),
          end: resolve,
        });
      });
      const stats = await Promise.race([ended, stopping]);
      if (stats === undefined) break;
      JSON.stringify({ type: "end", stats });
      evaluated += stats.symbols_done - stats.insufficient_history - stats.unknown_symbols;
      await service.deleteScan(scanId);
    }
    return evaluated;
  };
  const done = run().finally(async () => {
    service.close();
    worker.stop();
    await bus.close();
  });
  return {
    done,
    stop() {
      stopped = true;
      wake();
    },
  };
}
