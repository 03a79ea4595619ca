/**
 * The error a host dead-letters an input with when the input itself was fine but could not be
 * taken: its instance is stopped, its mailbox is full, it failed the instance repeatedly, the host
 * died applying it (`crash`), or its step ran past its deadline (`deadline`). Its
 * `reason` becomes the dead-letter subject `troupe.dlq.<reason>`, like a ProtocolError's.
 */

/** Why a well-formed input was not taken. */
export type RejectionReason = "stopped" | "overflow" | "apply" | "crash" | "deadline";

/** A well-formed input the host could not take, with the reason. */
export class InputRejectedError extends Error {
  override name = "InputRejectedError";
  readonly reason: RejectionReason;

  constructor(reason: RejectionReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}
