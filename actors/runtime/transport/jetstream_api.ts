/**
 * A JetStream API request (`$JS.API.<what>`: a JSON body, a JSON answer) sent on a connection's
 * inbox requests (inbox_requests.ts) rather than through nats.js's `JetStreamManager`, whose
 * requests each arm a timer of their own and make an error with a stack trace to cancel each one
 * answered: a leased host's compactions send a purge a journal stream each, hundreds a second at a
 * fleet's rates. An answer's `error` is thrown as nats.js's `JetStreamApiError`, its `code`
 * JetStream's, so that a refusal reads as the manager's would (jetstream_retry.ts tells an
 * election's refusals by it).
 */
import { type ApiError, JetStreamApiError } from "@nats-io/jetstream";
import type { InboxRequests } from "./inbox_requests.ts";

/** The API's subjects' prefix, nats.js's default (troupe makes no JetStream domain). */
export const JETSTREAM_API_PREFIX = "$JS.API";

const utf8 = new TextDecoder();
const encoder = new TextEncoder();

/**
 * Sends `body` as JSON to `$JS.API.<what>` and resolves with the answer's JSON; rejects with a
 * `JetStreamApiError` when JetStream answers an error, or as the request says (a timeout, no
 * responders, a lost connection).
 */
export async function jetStreamApi<T extends object>(
  requests: InboxRequests,
  what: string,
  body: unknown,
  timeoutMs: number,
): Promise<T> {
  const subject = `${JETSTREAM_API_PREFIX}.${what}`;
  const answer = await requests.request(subject, encoder.encode(JSON.stringify(body)), timeoutMs);
  let parsed: T & { error?: Partial<ApiError> };
  try {
    parsed = JSON.parse(utf8.decode(answer.data));
  } catch {
    throw new Error(`JetStream answered ${subject} with ${answer.data.length} bytes not JSON`);
  }
  if (parsed === null || typeof parsed !== "object") {
    throw new Error(`JetStream answered ${subject} with ${JSON.stringify(parsed)}`);
  }
  if (parsed.error) {
    const { code = 0, err_code = 0, description = "no description" } = parsed.error;
    throw new JetStreamApiError({ code, err_code, description });
  }
  return parsed;
}

/**
 * Purges `stream`'s messages of `filter` (all of them without one) below sequence `seq`; resolves
 * to how many it purged.
 */
export async function purgeStream(
  requests: InboxRequests,
  stream: string,
  purge: { filter?: string; seq: number },
  timeoutMs: number,
): Promise<number> {
  const answer = await jetStreamApi<{ success?: boolean; purged?: number }>(
    requests,
    `STREAM.PURGE.${stream}`,
    purge,
    timeoutMs,
  );
  if (answer.success !== true) {
    const what = purge.filter === undefined ? "" : ` ${purge.filter} of`;
    throw new Error(`JetStream did not purge${what} ${stream}: it answered no success`);
  }
  return answer.purged ?? 0;
}
