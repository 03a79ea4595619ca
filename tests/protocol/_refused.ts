/** Test support: asserts that a decoder refuses its input with a ProtocolError naming the field. */
import * as assert from "uvu/assert";
import { ProtocolError } from "../../protocol/mod.ts";

/** Asserts that `f` throws a ProtocolError on `field` whose message matches `message`. */
export function refused(f: () => unknown, field: string | undefined, message: RegExp): void {
  try {
    f();
  } catch (err) {
    assert.instance(err, ProtocolError);
    assert.is((err as ProtocolError).field, field);
    assert.match((err as Error).message, message);
    return;
  }
  assert.unreachable(`expected a ProtocolError on field ${field}`);
}
