/// <reference lib="dom" />
/**
 * The page's way to a channel's past: the WebSocket form of history (`{op: "history"}` on the
 * page's stream socket, which the gateway authenticated with the page's token when it opened),
 * falling back to `GET /history` on the page's own origin, with the same token, only while that
 * socket is not open (connecting, reconnecting, or a page with no stream). Both answer the wire
 * type `HistoryResponse`. At most one request a chart is in flight: a newer range supersedes an
 * older one (an HTTP request is aborted; a socket answer that comes after it is dropped), so
 * dragging a zoom or clicking through events never piles up requests. Either way a request gets
 * no answer for at most `HISTORY_TIMEOUT_MS` (10 s): it then fails, naming the channel and the
 * time, and the card says so and reads it again (history_failure.ts). Before, a `GET /history`
 * that never answered left its card `loading` for good. A request the service would refuse
 * whatever it holds (`checkHistoryRequest`) is not sent: it throws a HistoryRefusal, which the
 * card says without reading it again.
 */
import {
  checkHistoryRequest,
  decodeHistoryResponse,
  historyQuery,
  type HistoryRequest,
  type HistoryResponse,
} from "../../../../protocol/mod.ts";
import { HISTORY_TIMEOUT_MS } from "../../../stream/mod.ts";
import { HistoryRefusal } from "./history_refusal.ts";

/** The part of the stream client history uses (collab/stream/stream_client.ts). */
export interface HistorySocket {
  readonly open: boolean;
  history(request: HistoryRequest, timeoutMs?: number): Promise<Uint8Array>;
}

/** Fetches history for the page. */
export class HistoryClient {
  readonly #token: string;
  /** How long a request waits for its answer (ms). */
  readonly #timeoutMs: number;
  #socket: HistorySocket | undefined;
  /** The newest request of each key, and how to abort it (an HTTP one). */
  readonly #inflight = new Map<string, AbortController>();
  /** Requests answered (the tests read it). */
  answered = 0;
  /** Of those, answered over the stream socket, and over HTTP (the tests read them). */
  bySocket = 0;
  byHttp = 0;

  /** `timeoutMs`: how long a request waits for its answer, `HISTORY_TIMEOUT_MS` unless said (the
   *  page's `&history_timeout_ms=`, which the tests shorten). */
  constructor(token: string, timeoutMs = HISTORY_TIMEOUT_MS) {
    if (!(timeoutMs > 0 && Number.isFinite(timeoutMs))) {
      throw new RangeError(`HistoryClient timeoutMs must be a positive number, got ${timeoutMs}`);
    }
    this.#token = token;
    this.#timeoutMs = timeoutMs;
  }

  /** Asks over `socket` from now on, while it is open (the page's stream client). */
  useSocket(socket: HistorySocket | undefined): void {
    this.#socket = socket;
  }

  /**
   * The history of `request.channel` in its range; undefined when a newer request for the same
   * key superseded it. Throws with the server's reason on a refusal, and when no answer came in
   * time.
   */
  async get(request: HistoryRequest, key = request.channel): Promise<HistoryResponse | undefined> {
    this.#inflight.get(key)?.abort();
    try {
      checkHistoryRequest(request);
    } catch (err) {
      throw new HistoryRefusal(`History of ${request.channel}: ${(err as Error).message}`);
    }
    const abort = new AbortController();
    this.#inflight.set(key, abort);
    const socket = this.#socket?.open ? this.#socket : undefined;
    try {
      const bytes = socket
        ? await socket.history(request, this.#timeoutMs).catch((err: Error) => {
          // The service's own refusal names the channel already (HistoryService.encoded).
          const what = `History of ${request.channel}: `;
          throw new Error(err.message.startsWith(what) ? err.message : what + err.message);
        })
        : await this.#fetch(request, abort.signal);
      if (abort.signal.aborted) return undefined;
      const h = decodeHistoryResponse(bytes);
      this.answered++;
      if (socket) this.bySocket++;
      else this.byHttp++;
      return h;
    } catch (err) {
      if (abort.signal.aborted) return undefined;
      throw err;
    } finally {
      if (this.#inflight.get(key) === abort) this.#inflight.delete(key);
    }
  }

  /** `GET /history` with the page's token; aborted by `superseded`, or after the timeout (its
   *  body too), which throws naming the channel and the time waited. */
  async #fetch(request: HistoryRequest, superseded: AbortSignal): Promise<Uint8Array> {
    const url = `/history?token=${encodeURIComponent(this.#token)}&${historyQuery(request)}`;
    const late = AbortSignal.timeout(this.#timeoutMs);
    try {
      const res = await fetch(url, { signal: AbortSignal.any([superseded, late]) });
      if (!res.ok) {
        const text = (await res.text()).trim();
        throw new Error(`History of ${request.channel}: ${res.status} ${text}`);
      }
      return new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      if (!late.aborted || superseded.aborted) throw err;
      throw new Error(`History of ${request.channel}: no answer in ${this.#timeoutMs / 1000} s`);
    }
  }
}
