/**
 * Every subject is built and parsed in protocol/subjects.ts: a `"troupe.<area>` literal outside
 * protocol/ is a subject spelled by hand, which a rename or a name check would miss. Comments are
 * passed over (they name subjects to explain them). A file may be let off for a while by listing it
 * in NOT_YET, with who is changing it; a listed file that no longer has one fails too, so the list
 * only shrinks. None is listed now.
 */
import { readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { codeLines, ROOT, sources } from "../layout/_sources.ts";

const FOLDERS = ["actors", "sim", "collab", "bench", "cli"];

/** Files that still spell a subject, left to the helper changing them this session. */
const NOT_YET: Record<string, string> = {};

/** A subject literal: a quote or backquote, then `troupe.` and an area, or `troupe.>`. */
const SUBJECT_LITERAL =
  /["'`]troupe\.(?:feed|out|ctl|dlq|sys|scan|collab|journal|journal_collab|>)(?=[."'`*>$]|$)/;

/** The lines of `text` with a subject literal, comments aside. */
export function subjectLiteralLines(text: string): number[] {
  return codeLines(text, (code) => SUBJECT_LITERAL.test(code));
}

const test = suite("subject literals");

test("subjectLiteralLines() finds a spelled subject, not a comment or another troupe. string", () => {
  const text = [
    'bus.subscribe("troupe.out.>", f);',
    "const s = `troupe.collab.${session}`;",
    " * on `troupe.feed.<feed>.<channel>`",
    'localStorage.getItem("troupe.name");',
    'x = "troupe.>"; // all',
  ].join("\n");
  assert.equal(subjectLiteralLines(text), [1, 2, 5]);
});

test("no subject is spelled outside protocol/, but in the listed files", () => {
  const found: string[] = [];
  const spelled = new Set<string>();
  for (const folder of FOLDERS) {
    for (const file of sources(join(ROOT, folder))) {
      const rel = relative(ROOT, file).split(sep).join("/");
      const lines = subjectLiteralLines(readFileSync(file, "utf8"));
      if (lines.length) spelled.add(rel);
      if (lines.length && !(rel in NOT_YET)) found.push(`${rel}:${lines.join(",")}`);
    }
  }
  assert.equal(
    found,
    [],
    `subjects spelled by hand (use protocol/subjects.ts):\n${found.join("\n")}`,
  );
  const done = Object.keys(NOT_YET).filter((f) => !spelled.has(f));
  assert.equal(done, [], `no subject literal left: take them off NOT_YET: ${done.join(", ")}`);
});

test.run();
