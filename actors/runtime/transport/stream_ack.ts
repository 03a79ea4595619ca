/**
 * A JetStream publish's acknowledgement (`{"stream":..,"seq":..,"duplicate":..}`, or
 * `{"error":{..}}` when the stream refused the message), read from the answer's bytes.
 */

/** What the stream said of a message it kept. */
export interface StreamAck {
  seq: number;
  /** The stream had it already (a message sent again under the same `Nats-Msg-Id`). */
  duplicate: boolean;
}

const utf8 = new TextDecoder();

/**
 * The acknowledgement in `data`; throws, saying what the stream answered, when it is a refusal
 * or not an acknowledgement at all.
 */
export function streamAckOf(data: Uint8Array): StreamAck {
  let ack: { seq?: unknown; duplicate?: unknown; error?: { description?: string } };
  try {
    ack = JSON.parse(utf8.decode(data));
  } catch {
    throw new Error(`the stream answered ${data.length} bytes that are not JSON`);
  }
  if (ack === null || typeof ack !== "object") {
    throw new Error(`the stream answered ${JSON.stringify(ack)}, not an acknowledgement`);
  }
  if (ack.error || typeof ack.seq !== "number") {
    throw new Error(`the stream refused it: ${ack.error?.description ?? "no sequence"}`);
  }
  return { seq: ack.seq, duplicate: ack.duplicate === true };
}
