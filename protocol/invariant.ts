/**
 * Cheap assertions, left on in production, where an invariant broken here would otherwise show up
 * silently far away (a state folded from a journal read out of order, a message of the wrong
 * length sent on): the process fails at the cause, with what was expected and what was found.
 */

/** An internal invariant does not hold: a bug in troupe, never bad input. */
export class InvariantError extends Error {
  override name = "InvariantError";
}

/** Throws an InvariantError with `message()` (built only on failure) unless `condition` holds. */
export function invariant(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new InvariantError(message());
}
