/**
 * A scan's results followed over its WebSocket (the `websocketUrl` a host's `POST /scan/stream`
 * answers, scan_http.ts) as they arrive, to the scan's end: a socket that drops mid-scan is
 * reopened from the last result received (`?after=SEQ`), so that none is lost or seen twice.
 */
import { WebSocket } from "ws";
import { decodeScanResultsMessage, type ScanResult, type ScanStats } from "../../protocol/mod.ts";

/** Times in a row the socket may close before the scan's end until following gives up. */
export const FOLLOW_REOPENS_MAX = 10;

/** The wait before the n-th reopening in a row is n times this, ms. */
const REOPEN_STEP_MS = 200;

/** Options of followScanResults. */
export interface FollowScanOptions {
  /** Headers of every opening: the host's credentials. */
  headers: Record<string, string>;
  /** Each result, in order, once. */
  onResult(result: ScanResult): void;
  /** A message that cannot be read, why: it is passed over. */
  onUnreadable(why: string): void;
}

/**
 * Follows the scan at `url` to its end, resolving with its final statistics; rejects when the
 * socket keeps closing (FOLLOW_REOPENS_MAX times in a row) before the end.
 */
export function followScanResults(url: string, options: FollowScanOptions): Promise<ScanStats> {
  let last = 0, retries = 0;
  return new Promise((resolve, reject) => {
    const open = () => {
      const ws = new WebSocket(`${url}?after=${last}`, { headers: options.headers });
      let ended = false;
      ws.on("message", (data) => {
        retries = 0;
        let m;
        try {
          m = decodeScanResultsMessage(String(data));
        } catch (err) {
          options.onUnreadable((err as Error).message);
          return;
        }
        if (m.type === "result" && m.seq > last) {
          last = m.seq;
          options.onResult(m);
        } else if (m.type === "end") {
          ended = true;
          resolve(m.stats);
        }
      });
      ws.on("error", () => {});
      ws.on("close", () => {
        if (ended) return;
        if (++retries > FOLLOW_REOPENS_MAX) {
          reject(new Error(`the results' WebSocket ${url} keeps closing`));
        } else setTimeout(open, REOPEN_STEP_MS * retries);
      });
    };
    open();
  });
}
