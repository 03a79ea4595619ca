/**
 * The channels a process's hosts hold, each once (channel_book.ts): a channel two hosts admitted
 * counts once and stays while either holds it; a host admitting it again changes nothing; a host
 * that stops releases only what it held.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ChannelBook } from "../../../../actors/runtime/instances/mod.ts";

const test = suite("channel book");

test("a channel counts once however many hosts hold it, until the last lets it go", () => {
  const book = new ChannelBook();
  book.add("a", "part-0");
  book.add("b", "part-0");
  book.add("a", "part-3");
  book.add("a", "part-3");
  assert.is(book.size, 2);
  assert.ok(book.has("a") && book.has("b") && !book.has("c"));
  book.release("part-0");
  assert.is(book.size, 1, "a is still part-3's");
  assert.ok(book.has("a") && !book.has("b"));
  book.release("part-0");
  assert.is(book.size, 1, "a host released twice releases nothing more");
  book.release("part-3");
  assert.is(book.size, 0);
  book.add("b", "part-3");
  assert.ok(book.has("b") && book.size === 1, "held again after a release");
});

test.run();
