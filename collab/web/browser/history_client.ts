/// <reference lib="dom" />
/**
 * The page's way to a channel's past: `GET /history` on the page's own origin, with the page's
 * token, decoded into the wire type `HistoryResponse`. At most one request a chart is in flight
 * (a newer range supersedes an older one, which is aborted), so dragging a zoom or clicking
 * through events never piles up requests.
 */
import {
  decodeHistoryResponse,
  historyQuery,
  type HistoryRequest,
  type HistoryResponse,
} from "../../../protocol/mod.ts";

/** Fetches history for the page. */
export class HistoryClient {
  readonly #token: string;
  readonly #inflight = new Map<string, AbortController>();
  /** Requests answered (the tests read it). */
  answered = 0;

  constructor(token: string) {
    this.#token = token;
  }

  /**
   * The history of `request.channel` in its range; undefined when a newer request for the same
   * key superseded it. Throws with the server's reason on a refusal.
   */
  async get(request: HistoryRequest, key = request.channel): Promise<HistoryResponse | undefined> {
    this.#inflight.get(key)?.abort();
    const abort = new AbortController();
    this.#inflight.set(key, abort);
    try {
      const url = `/history?token=${encodeURIComponent(this.#token)}&${historyQuery(request)}`;
      const res = await fetch(url, { signal: abort.signal });
      if (!res.ok) {
        throw new Error(
          `History of ${request.channel}: ${res.status} ${(await res.text()).trim()}`,
        );
      }
      const h = decodeHistoryResponse(new Uint8Array(await res.arrayBuffer()));
      this.answered++;
      return h;
    } catch (err) {
      if (abort.signal.aborted) return undefined;
      throw err;
    } finally {
      if (this.#inflight.get(key) === abort) this.#inflight.delete(key);
    }
  }
}
