// Test support, preloaded into a troupe process (node --import, deno run --preload): once the
// file TROUPE_TEST_CRASH_WHEN names exists, a timer throws an error nothing catches, as a bug
// would, so that a test sees what the process leaves behind when it dies of one.
import { existsSync } from "node:fs";
import process from "node:process";

const path = process.env.TROUPE_TEST_CRASH_WHEN;
if (path) {
  const poll = setInterval(() => {
    if (!existsSync(path)) return;
    clearInterval(poll);
    setTimeout(() => {
      throw new TypeError("a bug: crash_when.mjs throws in a timer");
    }, 200);
  }, 50);
  poll.unref?.();
}
