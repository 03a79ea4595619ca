/**
 * What the stream gateway sends a socket waits in the socket's outbox until this turn of the event
 * loop ends, then goes out at once. NATS hands the gateway messages in bursts (a fleet's round is a
 * message per channel), and the pump feeds a lagging socket many in one turn: sent as they came,
 * each was a socket write, and on a browser each WebSocket message is a task of its own. So a
 * socket that asked for batches (protocol/stream_batch.ts) is sent a turn's messages as one `batch`
 * (several when they pass `batch_bytes_max`), each message inside unchanged and in order; any
 * other socket is sent them one by one, in one write (corked: a write per message was most of the
 * gateway's time, in a profile of it under load). Waiting for the end of the turn delays nothing a
 * client could see: the gateway's loop is busy with the burst meanwhile.
 *
 * Everything a socket is sent goes through its outbox (notices and replies too), so that nothing
 * overtakes; and what waits counts against the socket's bound as if it were queued already
 * (`queuedBytes`): a batch weighs its messages' bytes.
 */
import type { Client, OutboxEntry, Tally } from "./_stream_state.ts";
import { encodeStreamBatch } from "../../protocol/mod.ts";
import { rawSocket, senderIdle } from "../socket/mod.ts";

/** Options of a StreamOutbox. */
export interface StreamOutboxOptions {
  tally: Tally;
  /** Messages under this size go uncompressed, and may be written as a prebuilt frame. */
  deflate_threshold_bytes: number;
  /** A batch holds messages up to this many bytes (a larger message goes alone). */
  batch_bytes_max: number;
}

/**
 * The bytes a message adds to its socket's queue, at most: its own and a WebSocket frame's header
 * (10 bytes at most), or its header inside a batch (5), whichever way it goes.
 */
export function queuedWeight(payload: Uint8Array): number {
  return payload.length + 10;
}

/** Bytes queued for `client`: on its socket, and waiting in its outbox. */
export function queuedBytes(client: Client): number {
  return client.ws.bufferedAmount + client.outboxBytes;
}

/** The outboxes of a gateway's sockets, and the end-of-turn send of them. */
export class StreamOutbox {
  readonly #options: StreamOutboxOptions;
  /** The sockets with something waiting, in the order they were given it. */
  #waiting: Client[] = [];
  #scheduled = false;

  constructor(options: StreamOutboxOptions) {
    this.#options = options;
  }

  /**
   * Queues `payload` (an encoded server message) for `client`; `wire`, when given, is its
   * WebSocket frame built once for every socket, written as it is when it goes alone.
   */
  queue(client: Client, payload: Uint8Array, wire?: Uint8Array): void {
    if (client.closing) return;
    if (client.outbox.length === 0) {
      this.#waiting.push(client);
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#sendAll());
      }
    }
    client.outbox.push({ payload, wire });
    client.outboxBytes += queuedWeight(payload);
  }

  /** Sends what waits for `client` now (before it is closed: its close frame comes after). */
  flush(client: Client): void {
    const entries = client.outbox;
    if (entries.length === 0) return;
    client.outbox = [];
    client.outboxBytes = 0;
    if (client.closing) return;
    const socket = rawSocket(client.ws);
    // One write for them all, however many frames.
    socket?.cork();
    try {
      if (client.batches && entries.length > 1) this.#sendBatches(client, entries);
      else for (const e of entries) this.#sendOne(client, e.payload, e.wire);
    } finally {
      socket?.uncork();
    }
  }

  #sendAll(): void {
    this.#scheduled = false;
    for (const c of this.#waiting.splice(0)) this.flush(c);
  }

  /** Sends `entries` as batches of at most `batch_bytes_max` bytes of messages, in order. */
  #sendBatches(client: Client, entries: OutboxEntry[]): void {
    const max = this.#options.batch_bytes_max;
    let start = 0;
    while (start < entries.length) {
      let end = start, bytes = 0;
      while (
        end < entries.length && (end === start || bytes + entries[end]!.payload.length <= max)
      ) {
        bytes += entries[end++]!.payload.length;
      }
      if (end - start === 1) this.#sendOne(client, entries[start]!.payload, entries[start]!.wire);
      else {
        this.#options.tally.batchesSent++;
        this.#sendOne(client, encodeStreamBatch(entries.slice(start, end).map((e) => e.payload)));
      }
      start = end;
    }
  }

  /**
   * Sends one WebSocket message. With its frame (`wire`), the frame is written to ws's socket as
   * it is whenever ws's sender is idle (not compressing a large message or holding a queue, which
   * must go first to keep the order): framing it again per socket through ws was the gateway's
   * largest cost after `writev` and the garbage it made (in a profile of the gateway under
   * load). A small message goes uncompressed either way (RSV1 clear, which permessage-deflate
   * allows), so the client sees the same frames.
   */
  #sendOne(client: Client, payload: Uint8Array, wire?: Uint8Array): void {
    const socket = wire && rawSocket(client.ws);
    if (
      socket && payload.length < this.#options.deflate_threshold_bytes && !socket.destroyed &&
      senderIdle(client.ws)
    ) {
      socket.write(wire);
    } else client.ws.send(payload);
  }
}
