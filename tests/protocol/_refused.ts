/** Test support: asserts that a decoder refuses its input with a ProtocolError naming the field. */
import { throwsOn } from "../_support/throws_on.ts";
import { ProtocolError } from "../../protocol/mod.ts";

/** Asserts that `f` throws a ProtocolError on `field` whose message matches `message`. */
export function refused(fn: () => unknown, field: string | undefined, message: RegExp): void {
  throwsOn(ProtocolError, fn, field, message);
}
