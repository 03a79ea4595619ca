/**
 * The scans of a host, as the service `launchHost` runs beside it (`troupe run`, `troupe up`): the
 * bars actors seeded from `actors.bars.history_dir` (once the host has recovered), a scan worker
 * over the bars they hold, the scan service, and the scan API on the host's HTTP port. The
 * service keeps each scan in a journal of its own (`<data_dir>/scans/<scanId>/`, or in memory
 * when the host's journal is), never in the host's: the host's recovery would take a
 * `scan/<id>` stream for an actor instance of a kind it does not know, and a deleted scan's
 * journal is deleted with it.
 */
import { join } from "node:path";
import {
  type BarsState,
  defaultBarsConfig,
  parseBarsConfig,
  seedBarsHistory,
} from "../bars/mod.ts";
import type { HostService, HostServiceParts } from "../runtime/mod.ts";
import { type BarsSource, heldBarsSource } from "./bars_source.ts";
import { scanHttp } from "./scan_http.ts";
import type { ScanLimits } from "./scan_request.ts";
import { ScanService } from "./scan_service.ts";
import { ScanWorker } from "./scan_worker.ts";
import { type Rehearsal, rehearseScans } from "./_rehearsal.ts";
import { fileScanJournals, memoryScanJournals, type ScanJournals } from "./scan_journals.ts";
import { SCAN_WORK_SUBJECT, scanPartitionWorkSubject } from "../../protocol/mod.ts";

/** Options of the scans a host runs. */
export interface ScanHostOptions {
  limits?: ScanLimits;
  /** Symbols per chunk (default 250). */
  chunk_symbols?: number;
  /** Chunks in flight per scan (default 8). */
  inflight_max?: number;
  /** Resend a chunk not back after this long (default 5000). */
  chunk_timeout_ms?: number;
  /**
   * In a partitioned cluster, how long a scan's admission waits for each partition's symbols
   * (default 2000); a partition not answering is named in `partitions_missing`.
   */
  gather_timeout_ms?: number;
  /** Told when the warm-up after the start is done (see below), with how long it took. */
  onWarmed?(warmed: { ms: number; symbols_evaluated: number }): void;
}

const BARS_PREFIX = "bars/";
/** What /healthz says (`warming`) while the scans' first ordering is made. */
export const WARMING = "scans: ordering each bar size's symbols for the first scan";
/** What /healthz says (`warming`) while the scan path is rehearsed. */
export const REHEARSING = "scans: rehearsing the scan path";
/** After a change to the bars, the warm-up waits this long for more before it runs. */
export const WARM_AFTER_CHANGE_MS = 100;

/** The bars a host's bars actors hold, by channel. */
export function hostBarsSource(host: HostServiceParts["host"]): BarsSource {
  return heldBarsSource({
    channels: () => {
      const out: string[] = [];
      for (const i of host.instances()) {
        if (i.stream.startsWith(BARS_PREFIX)) out.push(i.stream.slice(BARS_PREFIX.length));
      }
      return out;
    },
    state: (channel) => host.instance("bars", channel)?.kernelState as BarsState | undefined,
    // Every change to a bars instance (a new channel, a closed bar, a seed) is an input applied.
    watch: (changed) => host.onApplied("bars", changed),
  });
}

/**
 * Makes the service `launchHost` runs beside a host: with the host running bars, a scan worker
 * and the scan service with its API; without, nothing.
 */
export function scanHostService(
  options: ScanHostOptions = {},
): (parts: HostServiceParts) => Promise<HostService> {
  return async ({ host, bus, config, log, notReady, warming }) => {
    if (!("bars" in config.actors)) return { close: () => Promise.resolve() };
    // History first: the first scan sees it. Meanwhile /healthz says how far seeding is.
    const barsConfig = parseBarsConfig(config.actors.bars, defaultBarsConfig, "actors.bars");
    await seedBarsHistory(host, barsConfig, {
      log,
      progress: (done, files) =>
        notReady(`seeding: bars history ${done} of ${files} files (${barsConfig.history_dir})`),
    });
    const journals: ScanJournals = config.journal.kind === "memory"
      ? memoryScanJournals()
      : fileScanJournals(join(config.data_dir, "scans"), {
        fsync: config.journal.fsync,
        fsyncIntervalMs: config.journal.fsync_interval_ms,
      });
    const bars = hostBarsSource(host);
    // A host that owns only some partitions holds only their symbols' bars: its worker takes the
    // chunks of those partitions only, and its service gathers a scan's universe from every
    // partition's host and sends each chunk to its partition's subject (`_partitioned_scans.ts`).
    const { count, owned } = config.partitions;
    const partitioned = owned.length < count;
    const work_subjects = partitioned ? owned.map(scanPartitionWorkSubject) : [SCAN_WORK_SUBJECT];
    const worker = new ScanWorker({ bus, bars, id: config.host_id, work_subjects });
    const { onWarmed, gather_timeout_ms, ...serviceOptions } = options;
    const service = new ScanService({
      bus,
      journals,
      bars,
      bar_sizes: barsConfig.bar_sizes,
      spare_journal: true,
      ...(partitioned
        ? { partitions: { count, owned, ...(gather_timeout_ms ? { gather_timeout_ms } : {}) } }
        : {}),
      ...serviceOptions,
    });
    try {
      worker.start();
      await service.start();
    } catch (e) {
      worker.stop();
      service.close();
      bars.close?.();
      await journals.close();
      throw e;
    }
    const stopWarmUp = startWarmUp(service, {
      host,
      bars,
      bar_sizes: barsConfig.bar_sizes,
      log,
      warming,
      ...(onWarmed ? { onWarmed } : {}),
    });
    const http = scanHttp(service);
    return {
      http,
      async close() {
        await stopWarmUp();
        http.close();
        service.close();
        worker.stop();
        bars.close?.();
        await journals.close();
      },
    };
  };
}

/** Options of `startWarmUp`: the host's parts it needs, its bars and the bar sizes to order. */
interface WarmUpOptions extends Pick<HostServiceParts, "host" | "log" | "warming"> {
  bars: BarsSource;
  bar_sizes: readonly string[];
  onWarmed?: ScanHostOptions["onWarmed"];
}

/**
 * Starts the warm-up of `service`: the first scan's ordering, warmed in the background now and
 * again once the bars change (see ScanService.warm), so that scan does not pay a pass over every
 * symbol's bars; then, once, a rehearsal of the scan path (rehearseScans), so that it does not run
 * cold either. /healthz names each step meanwhile (still 200: scans are served, the first ones
 * slower). Returns the stop, which waits for a rehearsal under way.
 */
function startWarmUp(service: ScanService, o: WarmUpOptions): () => Promise<void> {
  const failed = (e: unknown) => o.log(`scan warm-up: ${(e as Error).message}`);
  const warm = () => service.warm(o.bar_sizes);
  const t0 = performance.now();
  let rehearsal: Rehearsal | undefined;
  let closed = false;
  o.warming(WARMING);
  warm()
    .then(() => {
      if (closed) return 0;
      o.warming(REHEARSING);
      rehearsal = rehearseScans(o.bars, o.bar_sizes);
      return rehearsal.done;
    })
    .then((symbols_evaluated) => {
      o.warming(undefined);
      if (!closed) o.onWarmed?.({ ms: performance.now() - t0, symbols_evaluated });
    })
    .catch((e) => {
      o.warming(undefined);
      failed(e);
    });
  let changed: ReturnType<typeof setTimeout> | undefined;
  const stopWatch = o.host.onApplied("bars", () => {
    changed ??= setTimeout(() => {
      changed = undefined;
      warm().catch(failed);
    }, WARM_AFTER_CHANGE_MS);
  });
  return async () => {
    closed = true;
    rehearsal?.stop();
    await rehearsal?.done.catch(() => {});
    stopWatch();
    if (changed !== undefined) clearTimeout(changed);
  };
}
