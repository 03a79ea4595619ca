/**
 * No source file runs past 600 lines (issue 34): a file that grows past it is cut where its
 * concepts part, not trimmed to the number.
 */
import { readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ROOT, sources, TOP } from "./_sources.ts";

const FILE_LINES_MAX = 600;
const test = suite("file length");

/** The files of `files` over FILE_LINES_MAX lines, as `path: N lines`. */
function overLong(files: readonly string[]): string[] {
  return files.flatMap((file) => {
    const text = readFileSync(file, "utf8");
    const lines = text.endsWith("\n") ? text.split("\n").length - 1 : text.split("\n").length;
    return lines > FILE_LINES_MAX
      ? [`${relative(ROOT, file).split(sep).join("/")}: ${lines} lines`]
      : [];
  });
}

test("every source folder holds source files", () => {
  for (const top of TOP) assert.ok(sources(join(ROOT, top)).length > 0, top);
});

test("no source file runs past 600 lines", () => {
  const long = TOP.flatMap((top) => overLong(sources(join(ROOT, top))));
  assert.equal(
    long,
    [],
    `files over ${FILE_LINES_MAX} lines (cut them at their seams):\n` +
      long.join("\n"),
  );
});

test("the check counts lines as wc -l does: 600 pass, 601 fail", async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "troupe-file-length-"));
  try {
    const ok = join(dir, "ok.ts"), long = join(dir, "long.ts");
    writeFileSync(ok, "x;\n".repeat(600));
    writeFileSync(long, "x;\n".repeat(601));
    assert.equal(overLong([ok]), []);
    assert.is(overLong([long]).length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
