/** Test support: asserts that a session document refuses an edit with an error naming the field. */
import { throwsOn } from "../_support/throws_on.ts";
import { SessionDocError } from "../../collab/mod.ts";

/** Asserts that `fn` throws a SessionDocError on `field` whose message contains `text`. */
export function throwsField(fn: () => unknown, field: string, text: string): void {
  throwsOn(SessionDocError, fn, field, text);
}
