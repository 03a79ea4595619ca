/**
 * The stream gateway's catch-up pump: the sockets with a subscription that is catching up (it
 * asked for a backfill, or fell behind while live), each fed from the ring while its socket has
 * room (below half its bound), in seq order, until it reaches the latest seq and goes live again.
 * What the ring evicted before it was sent is counted as dropped and told in one `gap` notice when
 * the socket has room, or, under `slow: "close"`, closes the socket. The gateway runs `pumpAll` on
 * a short timer and `pumpClient` at once for a new backfill.
 *
 * A subscription its client ended while it still owed messages (retired, see `Sub.retiredTo`) is
 * fed the same way up to the seq it was ended at, but each message it owned goes out under the
 * subscription that owns it next, if that one is live or already past it (one still catching up
 * below it will send it itself, as the retired one no longer owns what it has passed); what the
 * ring evicted of it is told as a gap to those same subscriptions. Then it is dropped.
 */
import { type Client, ownerOf, type Sub, type Tally } from "./_stream_state.ts";
import type { StreamRing } from "./stream_ring.ts";
import { queuedBytes } from "./_stream_outbox.ts";
import { encodeStreamMsg, type StreamSingleMessage } from "../../protocol/mod.ts";

/** What the pump does through the gateway. */
export interface CatchUpSender {
  /** Sends one encoded `msg` frame. */
  sendFrame(client: Client, frame: Uint8Array): void;
  send(client: Client, m: StreamSingleMessage): void;
  /** Closes a socket that fell too far behind (4008). */
  closeSlow(client: Client, buffered: number): void;
}

/** Options of a StreamCatchUp. */
export interface StreamCatchUpOptions {
  ring: StreamRing;
  tally: Tally;
  /** The bound of a socket's queued bytes; it is fed while below half of it. */
  client_buffered_bytes_max: number;
  sender: CatchUpSender;
}

export class StreamCatchUp {
  /** The sockets with a subscription catching up. */
  readonly lagging = new Set<Client>();
  readonly #options: StreamCatchUpOptions;

  constructor(options: StreamCatchUpOptions) {
    this.#options = options;
  }

  /** Feeds every lagging socket. */
  pumpAll(): void {
    for (const c of this.lagging) this.pumpClient(c);
  }

  /** Feeds `client`'s catching-up subscriptions from the ring while its socket has room. */
  pumpClient(client: Client): void {
    if (client.closing) return void this.lagging.delete(client);
    let behind = false;
    for (const sub of client.subs.values()) {
      if (!sub.live && !this.#catchUp(client, sub)) behind = true;
      if (client.closing) return;
    }
    if (!behind) this.lagging.delete(client);
  }

  /** Returns whether `sub` is live again. */
  #catchUp(client: Client, sub: Sub): boolean {
    const { ring, tally, sender } = this.#options;
    const lowWater = this.#options.client_buffered_bytes_max / 2;
    const end = sub.retiredTo ?? Infinity;
    if (sub.cursor + 1 < ring.oldest && sub.cursor < end) {
      const from = sub.cursor + 1;
      const to = Math.min(ring.oldest - 1, end);
      // Under "close", losing what it was being fed closes; a `since` older than the buffer
      // (nothing fed yet) is a gap notice under either policy.
      if (sub.slow === "close" && sub.cursor > sub.from && sub.retiredTo === undefined) {
        sender.closeSlow(client, queuedBytes(client));
        return false;
      }
      sub.gap = sub.gap
        ? { from: sub.gap.from, to, missed: sub.gap.missed + (to - from + 1) }
        : { from, to, missed: to - from + 1 };
      tally.droppedSlow += to - from + 1;
      sub.cursor = to;
    }
    if (queuedBytes(client) > lowWater) return false;
    if (sub.gap) {
      if (sub.retiredTo === undefined) {
        sender.send(client, { t: "gap", sub: sub.id, ...sub.gap });
        tally.gapsSent++;
      } else this.#gapToHeirs(client, sub, sub.gap);
      sub.gap = undefined;
    }
    if (sub.retiredTo !== undefined) return this.#retire(client, sub);
    while (sub.cursor < ring.latest) {
      if (queuedBytes(client) > lowWater) return false;
      const entry = ring.get(++sub.cursor)!;
      if (ownerOf(client, entry, undefined) !== sub) continue;
      sender.sendFrame(client, encodeStreamMsg(entry.seq, sub.id, entry.subject, entry.data));
    }
    sub.live = true;
    if (sub.notices) sender.send(client, { t: "live", sub: sub.id, seq: sub.cursor });
    return true;
  }

  /** Hands what retired `sub` owes to the next owners; drops it once done (returns true). */
  #retire(client: Client, sub: Sub): boolean {
    const { ring, sender } = this.#options;
    const lowWater = this.#options.client_buffered_bytes_max / 2;
    while (sub.cursor < sub.retiredTo!) {
      if (queuedBytes(client) > lowWater) return false;
      const entry = ring.get(sub.cursor + 1)!;
      const owned = ownerOf(client, entry, undefined) === sub;
      sub.cursor++;
      if (!owned) continue;
      // Past its cursor now, it no longer owns the entry: this is the next owner.
      const heir = ownerOf(client, entry, undefined);
      if (heir && (heir.live || heir.cursor >= entry.seq)) {
        sender.sendFrame(client, encodeStreamMsg(entry.seq, heir.id, entry.subject, entry.data));
      }
    }
    for (const [key, s] of client.subs) if (s === sub) client.subs.delete(key);
    return true;
  }

  /** Tells the subscriptions that would have been handed part of `gap` that it was lost. */
  #gapToHeirs(client: Client, retired: Sub, gap: { from: number; to: number }): void {
    for (const s of client.subs.values()) {
      if (s === retired || s.retiredTo !== undefined) continue;
      const from = Math.max(gap.from, s.from + 1);
      const to = s.live ? gap.to : Math.min(gap.to, s.cursor);
      if (from > to) continue;
      this.#options.sender.send(client, { t: "gap", sub: s.id, from, to, missed: to - from + 1 });
      this.#options.tally.gapsSent++;
    }
  }
}
