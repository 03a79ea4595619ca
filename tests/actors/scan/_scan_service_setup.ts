/**
 * The scan service suites' setup: a universe of symbols on an in-process bus, a service with
 * in-memory journals and its workers, and a subscriber that records what it gets.
 */
import { InProcessBus } from "../../../actors/runtime/mod.ts";
import { memoryScanJournals, ScanService, ScanWorker } from "../../../actors/scan/mod.ts";
import type { ScanResult, ScanStats } from "../../../protocol/mod.ts";
import { source, universe } from "./_scan_setup.ts";

/** A subscriber that records what it gets. */
export function recorder() {
  const got: ScanResult[] = [];
  let ended: ScanStats | undefined;
  return {
    got,
    get ended() {
      return ended;
    },
    listener: {
      result: (r: ScanResult) => void got.push(r),
      end: (s: ScanStats) => void (ended = s),
    },
  };
}

export function setup(
  n: number,
  options: { chunk_timeout_ms?: number; workers?: number; chunk_symbols?: number } = {},
) {
  const u = universe(n);
  const bus = new InProcessBus();
  const journals = memoryScanJournals();
  let id = 0;
  const service = new ScanService({
    bus,
    journals,
    bars: source(u),
    chunk_symbols: options.chunk_symbols ?? 25,
    chunk_timeout_ms: options.chunk_timeout_ms ?? 5000,
    newId: () => `scan${++id}`,
  });
  const workers = Array.from(
    { length: options.workers ?? 2 },
    (_, i) => new ScanWorker({ bus, bars: source(u), id: `w${i}` }),
  );
  return { u, bus, journals, service, workers };
}

export async function teardown(
  s: { service: ScanService; workers: ScanWorker[]; bus: InProcessBus },
) {
  s.service.close();
  for (const w of s.workers) w.stop();
  await s.bus.close();
}
