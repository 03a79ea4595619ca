/** Test support: asserts that a session document refuses an edit with an error naming the field. */
import * as assert from "uvu/assert";
import { SessionDocError } from "../../collab/mod.ts";

/** Asserts that `fn` throws a SessionDocError on `field` whose message contains `text`. */
export function throwsField(fn: () => unknown, field: string, text: string): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, SessionDocError);
    assert.is((err as SessionDocError).field, field);
    assert.match((err as Error).message, text);
    return;
  }
  assert.unreachable(`expected a SessionDocError on ${field}`);
}
