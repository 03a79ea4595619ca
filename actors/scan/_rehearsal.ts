/**
 * A rehearsal of the scan path, run once when a host's scans start (after the priority orders are
 * warmed, see ScanService.warm): a scan service and a worker of their own, on an in-process bus of
 * their own with in-memory journals, behind the scan API on a loopback port of their own, scan the
 * host's bars (read only) with a criteria reading every indicator and operator of the language
 * (warmUpCriteria), over up to `REHEARSAL_SYMBOLS` symbols of each bar size, in chunks of
 * `REHEARSAL_CHUNK_SYMBOLS`: each scan is posted, its results read over its WebSocket, and it is
 * deleted, as a client does; then the rest is closed. Nothing reaches the host's bus, journals,
 * actors or port. What it leaves is compiled code: without it, a host's first scan ran the API,
 * the request checks, the scan machine, the dispatch, the worker's evaluation, the WebSocket
 * upgrade and the results' path cold (its first chunks took 2-10 times a repeated scan's). The
 * worker scans a chunk per turn of the event loop, so the host serves meanwhile.
 */
import { createServer, request as httpRequest } from "node:http";
import { WebSocket } from "ws";
import { InProcessBus } from "../runtime/mod.ts";
import type { BarsSource } from "./bars_source.ts";
import { memoryScanJournals } from "./scan_journals.ts";
import { scanHttp } from "./scan_http.ts";
import { ScanService, type ScanStats } from "./scan_service.ts";
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
  const api = scanHttp(service);
  const server = createServer(async (req, res) => {
    if (!(await api.handle(req, res))) res.writeHead(404).end();
  });
  server.on("upgrade", (req, socket, head) => {
    if (!api.upgrade(req, socket, head)) socket.destroy();
  });
  let stopped = false;
  let wake = () => {};
  const stopping = new Promise<undefined>((resolve) => (wake = () => resolve(undefined)));
  const run = async () => {
    worker.start();
    await service.start();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const { criteria, rank } = warmUpCriteria();
    const universe = source.symbols().slice(0, REHEARSAL_SYMBOLS);
    let evaluated = 0;
    for (const bar of bars) {
      if (stopped || universe.length === 0) break;
      const scan = scanOver(base, { criteria, rank, bar, universe });
      // Stopped, it fails once the server closes under it: that is not the rehearsal's failure.
      scan.catch(() => {});
      const stats = await Promise.race([scan, stopping]);
      if (stats === undefined) break;
      evaluated += stats.symbols_done - stats.insufficient_history - stats.unknown_symbols;
    }
    return evaluated;
  };
  const done = run().finally(async () => {
    api.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
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

/**
 * An HTTP request to the rehearsal's own API, through node:http rather than fetch: a host's
 * clients are elsewhere, and a client in the host's process (the scan benchmark's) is not warmed
 * by it.
 */
function call(
  url: string,
  method: string,
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Posts a scan to the API at `base`, reads its results over its WebSocket, and deletes it. */
async function scanOver(base: string, request: Record<string, unknown>): Promise<ScanStats> {
  const res = await call(`${base}/scan/stream`, "POST", JSON.stringify(request));
  const body = JSON.parse(res.text) as { scanId?: string; websocketUrl?: string; error?: string };
  if (res.status !== 200) throw new Error(`rehearsal: POST /scan/stream: ${body.error}`);
  const stats = await new Promise<ScanStats>((resolve, reject) => {
    const ws = new WebSocket(body.websocketUrl!);
    ws.on("message", (data) => {
      const m = JSON.parse(String(data)) as { type: string; stats?: ScanStats };
      if (m.type === "end") resolve(m.stats!);
    });
    ws.on("error", reject);
    ws.on("close", () => reject(new Error("rehearsal: the results' WebSocket closed early")));
  });
  await call(`${base}/scan/${body.scanId}`, "DELETE");
  return stats;
}
