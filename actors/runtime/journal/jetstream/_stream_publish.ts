/**
 * A publish to a JetStream stream, answered on the journal's inbox (`InboxRequests`): what a
 * journal append sends. The stream's acknowledgement is read for its sequence; a refusal is thrown
 * as nats.js's own `JetStreamApiError`, so a wrong last sequence reads as one
 * (`isWrongLastSequence`), and the request's own errors (its timeout, no responders, the
 * connection lost before the answer) read as `electionError` reads nats.js's.
 *
 * Not `JetStreamClient.publish`: it goes through `NatsConnection.request`, which for each publish
 * makes a timeout error up front and, once the answer came, a second error to cancel the request,
 * each with a stack trace. A journal makes a publish for every record it keeps, and those errors
 * and their garbage were most of an append's CPU (docs/performance.md has the figures).
 */
import { JetStreamApiError } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/transport-node";
import type { InboxRequests } from "../../transport/mod.ts";

const utf8 = new TextDecoder();

/** What a stream answers a publish: its acknowledgement, or its refusal. */
interface PubAnswer {
  stream?: unknown;
  seq?: unknown;
  error?: { code: number; err_code?: number; description: string };
}

/**
 * Publishes `data` on `subject` with `headers` and resolves to the stream sequence it was stored
 * at; rejects with the stream's refusal, or with the request's error after `timeoutMs`.
 */
export async function publishToStream(
  requests: InboxRequests,
  subject: string,
  data: Uint8Array,
  headers: MsgHdrs,
  timeoutMs: number,
): Promise<number> {
  const msg = await requests.request(subject, data, timeoutMs, headers);
  let answer: PubAnswer;
  try {
    answer = JSON.parse(utf8.decode(msg.data));
  } catch {
    throw new Error(`the stream answered a publish on ${subject} with bytes that are not JSON`);
  }
  if (answer?.error) {
    const { code, err_code, description } = answer.error;
    throw new JetStreamApiError({ code, err_code: err_code ?? 0, description });
  }
  if (typeof answer?.seq !== "number" || typeof answer.stream !== "string" || !answer.stream) {
    throw new Error(
      `the stream answered a publish on ${subject} with ${JSON.stringify(answer)}, ` +
        `not an acknowledgement`,
    );
  }
  return answer.seq;
}
