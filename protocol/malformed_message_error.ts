/**
 * The error of a collab message that cannot be taken: a y-websocket message a room cannot read, a
 * peer message or catch-up answer between collab nodes that is not one. A room's socket is closed
 * with 1007 and the error's message as its reason; a peer message is dropped and counted.
 */

/** A collab message the receiver cannot take; the message says what is wrong with it. */
export class MalformedMessageError extends Error {
  override name = "MalformedMessageError";
}
