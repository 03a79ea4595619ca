/** Test support: asserts that a call is refused with an error of one class naming a field. */
import * as assert from "uvu/assert";

/** An error class whose instances name the field they refuse (ProtocolError, ConfigError, …). */
type FieldErrorClass = abstract new (
  ...args: never[]
) => Error & { readonly field?: string | undefined };

/**
 * Asserts that `fn` throws an instance of `ErrorClass` on `field` whose message matches `message`
 * (a string it contains, or a pattern).
 */
export function throwsOn(
  ErrorClass: FieldErrorClass,
  fn: () => unknown,
  field: string | undefined,
  message: string | RegExp,
): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, ErrorClass);
    assert.is((err as InstanceType<FieldErrorClass>).field, field);
    assert.match((err as Error).message, message);
    return;
  }
  assert.unreachable(`expected a ${ErrorClass.name} on ${field}`);
}
