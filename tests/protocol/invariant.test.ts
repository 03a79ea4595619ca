import { suite } from "uvu";
import * as assert from "uvu/assert";
import { invariant, InvariantError } from "../../protocol/mod.ts";

const test = suite("invariant");

test("invariant() passes a holding condition without building its message, and throws otherwise", () => {
  let built = 0;
  invariant(true, () => `never ${++built}`);
  assert.is(built, 0);
  assert.throws(
    () => invariant(1 > 2, () => "position 3 after 5"),
    (e: Error) => e instanceof InvariantError && e.message === "position 3 after 5",
  );
});

test.run();
