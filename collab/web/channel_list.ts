/**
 * `GET /channels` on the collab server: every channel a metrics receiver admitted, with the
 * labels of the series it was made from (the channel record, `troupe_channel_labels`), so that the
 * dashboard groups its cards by `instance` and `job`, filters them by label and names an
 * incident's series by their labels. The record is opened on the server's bus the first time a
 * page asks (the reader then follows it: later answers are a map read), never at start, so a
 * server whose pages never ask loads none of it. The answer is `encodeChannelLabelsList`
 * (protocol/prometheus/channel_labels.ts); the token is the stream gateway's (any session, any
 * role: reading writes nothing).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Bus } from "../../protocol/mod.ts";
import {
  CHANNEL_LABELS_LIST_MAX,
  type ChannelLabels,
  encodeChannelLabelsList,
} from "../../protocol/prometheus/mod.ts";
import type { ChannelLabelsBook } from "../../actors/ingest/mod.ts";
import { type Keyring, TokenError, verifyToken } from "../session/mod.ts";

/** The path the list answers. */
export const CHANNEL_LIST_PATH = "/channels";

/** Options of a ChannelList. */
export interface ChannelListOptions {
  keyring: Keyring;
  /** Where the channel record is read from; absent: every request answers 503. */
  bus?: Bus | undefined;
  /** Milliseconds since the epoch (token expiry). */
  now(): number;
}

/** The channels and their labels, as the dashboard asks for them. */
export class ChannelList {
  readonly #options: ChannelListOptions;
  #book: Promise<ChannelLabelsBook> | undefined;
  #closed = false;

  constructor(options: ChannelListOptions) {
    this.#options = options;
  }

  /** Answers one request: 200 with the list, 401 without a valid token, 405 but for GET. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "GET") {
      return text(res, 405, `Method ${req.method} not allowed on ${CHANNEL_LIST_PATH}: use GET`);
    }
    const url = new URL(req.url ?? "/", "http://collab");
    try {
      const token = url.searchParams.get("token");
      await verifyToken(this.#options.keyring, token, {
        session: null,
        nowMs: this.#options.now(),
      });
    } catch (err) {
      if (!(err instanceof TokenError)) throw err;
      return text(res, 401, err.message);
    }
    const bus = this.#options.bus;
    if (!bus || this.#closed) {
      return text(res, 503, "No channel record here: this collab server runs without a bus");
    }
    let book: ChannelLabelsBook;
    try {
      book = await (this.#book ??= openBook(bus));
    } catch (err) {
      this.#book = undefined;
      return text(res, 503, `Cannot read the channel record: ${(err as Error).message}`);
    }
    const list: ChannelLabels[] = [];
    for (const [channel, labels] of book.entries()) {
      if (list.length >= CHANNEL_LABELS_LIST_MAX) break;
      list.push({ channel, labels: [...labels] });
    }
    const bytes = encodeChannelLabelsList(list);
    res.writeHead(200, {
      "content-type": "application/msgpack",
      "content-length": String(bytes.byteLength),
      "cache-control": "no-store",
    });
    res.end(bytes);
  }

  /** Stops following the record. */
  async close(): Promise<void> {
    this.#closed = true;
    const book = await this.#book?.catch(() => undefined);
    await book?.close();
  }
}

/** The record on `bus`, followed (loaded only now: the ingest room brings NATS's KV client). */
async function openBook(bus: Bus): Promise<ChannelLabelsBook> {
  const { openChannelLabels } = await import("../../actors/ingest/mod.ts");
  return await openChannelLabels(bus, { read: true });
}

function text(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(message + "\n");
}
