/**
 * A direct get from a JetStream stream (`$JS.API.DIRECT.GET.<stream>`), answered on an inbox of
 * `InboxRequests`: what a journal's reads of one message send (a subject's last message, the next
 * message of a subject at or after a sequence), and the snapshot bucket's reads of a key. The
 * answer is the stored message with the stream's headers (`Nats-Subject`, `Nats-Sequence`) beside
 * its own, or a status: 404, no such message (null); any other, an error naming it.
 *
 * Not `JetStreamManager.direct.getMessage`: through `NatsConnection.request`, each get would make
 * two errors with stack traces (inbox_requests.ts), and a journal's loads and compactions, and a
 * start's snapshots, make many gets.
 */
import { DirectMsgHeaders } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/transport-node";
import type { InboxRequests } from "./inbox_requests.ts";

/** A message read from the stream: what the journal reads of one. */
export interface GotMessage {
  subject: string;
  seq: number;
  header: MsgHdrs | undefined;
  data: Uint8Array;
}

/** A direct get's query: a subject's last message, or the first at or after `seq`. */
export type DirectQuery = { last_by_subj: string } | { seq: number; next_by_subj: string };

/** The timeout of a get, ms: nats.js's for a JetStream API request. */
const DIRECT_GET_TIMEOUT_MS = 5000;

const EMPTY = new Uint8Array(0);
const utf8 = new TextEncoder();

/** Gets the message `query` names from `stream`; null when there is none. */
export async function directGet(
  requests: InboxRequests,
  stream: string,
  query: DirectQuery,
  timeoutMs = DIRECT_GET_TIMEOUT_MS,
): Promise<GotMessage | null> {
  // A last-message get names its subject in the request's (as nats.js sends it, so that a
  // permission on the subject governs it).
  const last = "last_by_subj" in query;
  const subject = last
    ? `$JS.API.DIRECT.GET.${stream}.${query.last_by_subj}`
    : `$JS.API.DIRECT.GET.${stream}`;
  const payload = last ? EMPTY : utf8.encode(JSON.stringify(query));
  const msg = await requests.request(subject, payload, timeoutMs);
  const h = msg.headers;
  const status = h?.code ?? 0;
  if (status === 404) return null;
  const seq = Number(h?.last(DirectMsgHeaders.Sequence));
  const from = h?.last(DirectMsgHeaders.Subject);
  if (status !== 0 || !h || !Number.isSafeInteger(seq) || seq < 1 || !from) {
    const said = status === 0 ? "a message without its stream headers" : `status ${status}`;
    const why = h?.description ? ` (${h.description})` : "";
    throw new Error(
      `Cannot read ${JSON.stringify(query)} from stream ${stream}: it answered ${said}${why}`,
    );
  }
  return { subject: from, seq, header: h, data: msg.data };
}
