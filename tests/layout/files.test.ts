/**
 * No source file runs past 600 lines (issue 34): a file that grows past it is cut where its
 * concepts part, not trimmed to the number. No folder of collab/ holds more than 20 source files:
 * past that a folder holds several concepts, which are moved into rooms of their own, each entered
 * by its mod.ts.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ROOT, sources, TOP } from "./_sources.ts";

const FILE_LINES_MAX = 600;
const FOLDER_FILES_MAX = 20;
/** The source folders whose every folder keeps to FOLDER_FILES_MAX. */
const ROOMED = ["collab"];
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

/** The folders among `dirs` holding more than FOLDER_FILES_MAX source files, as `path: N files`. */
function overFull(dirs: readonly string[]): string[] {
  return dirs.flatMap((dir) => {
    const n = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && /\.(ts|mts|mjs)$/.test(e.name)).length;
    return n > FOLDER_FILES_MAX ? [`${relative(ROOT, dir).split(sep).join("/")}: ${n} files`] : [];
  });
}

/** `dir` and every folder below it (node_modules and dot folders left out). */
function foldersOf(dir: string): string[] {
  return [dir].concat(
    ...readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && e.name !== "node_modules" && !e.name.startsWith("."))
      .map((e) => foldersOf(join(dir, e.name))),
  );
}

test("no folder of collab/ holds more than 20 source files", () => {
  const dirs = ROOMED.flatMap((top) => foldersOf(join(ROOT, top)));
  assert.ok(dirs.length > 5, `only ${dirs.length} folders found: is the scan broken?`);
  const full = overFull(dirs);
  assert.equal(
    full,
    [],
    `folders over ${FOLDER_FILES_MAX} source files (move their concepts into rooms):\n` +
      full.join("\n"),
  );
});

test("the folder check counts source files: 20 pass, 21 fail, other files not counted", async () => {
  const { mkdirSync, mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "troupe-folder-size-"));
  try {
    const [ok, full] = [join(dir, "ok"), join(dir, "full")];
    mkdirSync(ok);
    mkdirSync(full);
    for (let i = 0; i < 20; i++) writeFileSync(join(ok, `f${i}.ts`), "");
    writeFileSync(join(ok, "notes.md"), "");
    for (let i = 0; i < 21; i++) writeFileSync(join(full, `f${i}.ts`), "");
    assert.equal(overFull([ok]), []);
    assert.equal(overFull([full]).map((s) => s.endsWith(": 21 files")), [true]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
