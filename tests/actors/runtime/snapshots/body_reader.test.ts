/**
 * The packed store's reader of a start's bodies (_body_reader.ts): every read the bytes asked
 * for; records asked for in the order they lie served from one window read ahead, one asked for
 * out of order read alone; the memory written over by each read (`reads`), and nothing held after
 * a read that failed.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { closeSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  BODY_WINDOW_BYTES,
  BodyReader,
} from "../../../../actors/runtime/snapshots/_body_reader.ts";
import { tempDir } from "../../../_support/nats.ts";

const test = suite("body_reader");

/** A file of `size` bytes, byte i being a function of i and `salt`, open for reading. */
function file(dir: string, name: string, size: number, salt = 0) {
  const bytes = new Uint8Array(size).map((_, i) => (i * 131 + (i >>> 8) + salt) & 0xff);
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { bytes, f: { fd: openSync(path, "r"), size } };
}

test("records in the order they lie come from one window; one out of order is read alone", () => {
  const dir = tempDir();
  const { bytes, f } = file(dir.path, "a", 3 * BODY_WINDOW_BYTES);
  try {
    const reader = new BodyReader();
    const ask = (at: number, len: number) => {
      assert.equal([...reader.read(f, at, len)], [...bytes.subarray(at, at + len)], `${at}+${len}`);
    };
    ask(1000, 2000); // the first: alone
    assert.is(reader.reads, 1);
    // In order (just after, then past a gap of other records): a window from the second on.
    ask(3000, 2500);
    assert.is(reader.reads, 2);
    for (let at = 6000; at < 6000 + 400 * 2300; at += 2300) ask(at, 2200);
    assert.is(reader.reads, 2, "400 records in order, no read more");
    // Out of order (before the window): read alone, and the window gone.
    ask(500, 100);
    assert.is(reader.reads, 3);
    ask(5000, 100);
    assert.is(reader.reads, 4, "the window was written over");
    // A window at the file's end holds what is left.
    const near = 3 * BODY_WINDOW_BYTES - 5000;
    ask(near - 60_000, 1000);
    ask(near, 1000);
    ask(near + 2000, 3000);
    assert.is(reader.reads, 6);
    // Another file, at offsets the window holds of the first: its own bytes, read.
    const other = file(dir.path, "b", 3 * BODY_WINDOW_BYTES, 7);
    try {
      const at = near + 2100;
      assert.equal([...reader.read(other.f, at, 50)], [...other.bytes.subarray(at, at + 50)]);
      assert.is(reader.reads, 7);
    } finally {
      closeSync(other.f.fd);
    }
  } finally {
    closeSync(f.fd);
    dir.remove();
  }
});

test("a read past the file's end throws, naming what it read, and leaves nothing held", () => {
  const dir = tempDir();
  const { bytes, f } = file(dir.path, "a", 50_000);
  try {
    const reader = new BodyReader();
    assert.equal([...reader.read(f, 0, 100)], [...bytes.subarray(0, 100)]);
    assert.throws(() => reader.read(f, 49_000, 2000), /1000 of its 2000 bytes read/);
    // The window it began is not served: the next read reads.
    const before = reader.reads;
    assert.equal([...reader.read(f, 49_100, 10)], [...bytes.subarray(49_100, 49_110)]);
    assert.is(reader.reads, before + 1);
  } finally {
    closeSync(f.fd);
    dir.remove();
  }
});

test.run();
