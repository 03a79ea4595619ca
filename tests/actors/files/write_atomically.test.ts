import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeAtomically, writeAtomicallyAsync } from "../../../actors/files/mod.ts";
import { tempDir } from "../../_support/nats.ts";

const test = suite("write_atomically");

test("a file written aside and renamed, on this thread or the I/O threads, replaces the old whole and leaves nothing aside", async () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, "index");
    writeAtomically(path, "old");
    assert.equal(readFileSync(path, "utf8"), "old");
    const big = new Uint8Array(3 << 20).map((_, i) => i & 0xff);
    const writing = writeAtomicallyAsync(path, big);
    // Until it resolves, a reader sees the old file whole.
    assert.equal(readFileSync(path, "utf8"), "old");
    await writing;
    assert.equal(new Uint8Array(readFileSync(path)), big);
    await writeAtomicallyAsync(path, Uint8Array.of(1, 2, 3), { fsync: false, tmp: `${path}.x` });
    assert.equal([...readFileSync(path)], [1, 2, 3]);
    assert.equal(readdirSync(dir.path), ["index"]);
  } finally {
    dir.remove();
  }
});

test("a write that cannot be made rejects and leaves the old file as it was", async () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, "index");
    writeFileSync(path, "old");
    let error: unknown;
    await writeAtomicallyAsync(path, Uint8Array.of(1), { tmp: join(dir.path, "gone", "x") })
      .catch((err) => (error = err));
    assert.ok(error instanceof Error && /ENOENT/.test(error.message), String(error));
    assert.equal(readFileSync(path, "utf8"), "old");
    assert.ok(!existsSync(join(dir.path, "gone")));
  } finally {
    dir.remove();
  }
});

test.run();
