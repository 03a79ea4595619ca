/**
 * A JetStream publish's acknowledgement (`{"stream":..,"seq":..,"duplicate":..}`, or
 * `{"error":{..}}` when the stream refused the message), read from the answer's bytes.
 */
import { type ApiError, JetStreamApiError } from "@nats-io/jetstream";

/** What the stream said of a message it kept. */
export interface StreamAck {
  seq: number;
  /** The stream had it already (a message sent again under the same `Nats-Msg-Id`). */
  duplicate: boolean;
}

/**
 * The stream's refusal of a message, as nats.js's own `JetStreamApiError`: its `code` is
 * JetStream's error code (10071, a wrong last sequence), so a refusal read here is told apart as
 * one nats.js read would be.
 */
export class StreamRefusedError extends JetStreamApiError {
  override name = "StreamRefusedError";

  constructor(error: ApiError) {
    super(error);
    this.message = `the stream refused it: ${error.description}`;
  }
}

const utf8 = new TextDecoder();

/**
 * The acknowledgement in `data`; throws, saying what the stream answered, when it is a refusal
 * (a StreamRefusedError) or not an acknowledgement at all.
 */
export function streamAckOf(data: Uint8Array): StreamAck {
  let ack: { seq?: unknown; duplicate?: unknown; error?: Partial<ApiError> };
  try {
    ack = JSON.parse(utf8.decode(data));
  } catch {
    throw new Error(`the stream answered ${data.length} bytes that are not JSON`);
  }
  if (ack === null || typeof ack !== "object") {
    throw new Error(`the stream answered ${JSON.stringify(ack)}, not an acknowledgement`);
  }
  if (ack.error) {
    const { code = 0, err_code = 0, description = "no description" } = ack.error;
    throw new StreamRefusedError({ code, err_code, description });
  }
  if (typeof ack.seq !== "number") {
    throw new Error(`the stream refused it: no sequence`);
  }
  return { seq: ack.seq, duplicate: ack.duplicate === true };
}
