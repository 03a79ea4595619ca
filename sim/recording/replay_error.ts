/** The error of a replay that cannot be done as asked. */

/** A replay that cannot be done as asked (unknown kind, inspect of a missing instance, ...). */
export class ReplayError extends Error {
  override name = "ReplayError";
}
