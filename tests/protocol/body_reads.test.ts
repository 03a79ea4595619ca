/**
 * An event body is read in protocol/events/ alone, by the decoder of its kind, which checks every
 * field: a body read by hand elsewhere is a wire field spelled by string, which a rename (issue 34's
 * `changeTs` → `change_ts`) or a bad value would pass by silently. An envelope's `body` is `unknown`,
 * so reading a field of it takes a cast or an index; outside protocol/ (in actors, sim, collab,
 * bench and cli sources, comments passed over) this test fails on:
 *
 * - a cast of a body: `.body as`, `(env.body ?? {}) as`, `(env.body as { error?: unknown })`;
 * - a body indexed by a name: `body["score"]`, `body[field]` (an assignment, `body[f] = x`, which
 *   builds a body to send, and a numeric index are not reads of a field);
 * - a format-1 field name read off a body or a finding's detail: `body.changeTs`, `detail.topChannels`.
 *
 * It does not see a body passed whole to a function typed `any`; the decoders' types are what keep
 * the rest honest. A file may be let off by listing it in NOT_YET with who is changing it; a listed
 * file with nothing left fails too, so the list only shrinks. None is listed now.
 */
import { readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { codeLines, ROOT, sources } from "../layout/_sources.ts";
import { COLLAPSE_FORMAT1_NAMES } from "../../protocol/mod.ts";

const FOLDERS = ["actors", "sim", "collab", "bench", "cli"];

/** Files that still read a body by hand, left to the helper changing them this session. */
const NOT_YET: Record<string, string> = {};

const FORMAT1_NAMES = [...Object.values(COLLAPSE_FORMAT1_NAMES), "topChannels"];

/** The three ways a body is read by hand (see the module). */
const BODY_READS: readonly RegExp[] = [
  /\.body\)?\s*(?:\?\?\s*(?:\{\}|null)\s*\)?\s*)?as\s/,
  /\bbody\s*\[\s*(?:"[^"]*"|'[^']*'|[A-Za-z_$][\w$.]*)\s*\](?!\s*=(?!=))/,
  new RegExp(`\\b(?:body|detail)\\??\\.(?:${FORMAT1_NAMES.join("|")})\\b`),
];

/** The lines of `text` that read a body by hand, comments aside. */
export function bodyReadLines(text: string): number[] {
  return codeLines(text, (code) => BODY_READS.some((re) => re.test(code)));
}

const test = suite("body reads");

test("bodyReadLines() finds a cast, an index and a format-1 name, not a build or a comment", () => {
  const text = [
    "const body = (env.body ?? {}) as Record<string, unknown>;", // 1: cast
    "const e = (reply.body as { error?: unknown } | null)?.error;", // 2: cast
    'const x = body["score"];', // 3: index by name
    "const y = body[field] + 1;", // 4: index by a variable
    "body[f] = float64Bytes(bars[f]);", // building a body: not a read
    "const b = body[0]!;", // a numeric index: not a field
    'page.waitForSelector("body[data-ready]");', // a CSS selector
    'if (typeof body.changeTs === "number") at = 1;', // 8: a format-1 name
    "const top = detail?.topChannels;", // 9
    " * reads `body.changeTs` by string", // a comment
    "const c = collapseOf(env).change_ts;", // through the decoder
    "for (const c of changes) c.changeTs;", // a kernel's own type, not a body
  ].join("\n");
  assert.equal(bodyReadLines(text), [1, 2, 3, 4, 8, 9]);
});

test("no body is read by hand outside protocol/, but in the listed files", () => {
  const found: string[] = [];
  const reading = new Set<string>();
  for (const folder of FOLDERS) {
    for (const file of sources(join(ROOT, folder))) {
      const rel = relative(ROOT, file).split(sep).join("/");
      const lines = bodyReadLines(readFileSync(file, "utf8"));
      if (lines.length) reading.add(rel);
      if (lines.length && !(rel in NOT_YET)) found.push(`${rel}:${lines.join(",")}`);
    }
  }
  assert.equal(
    found,
    [],
    `bodies read by hand (use the decoders of protocol/events/):\n${found.join("\n")}`,
  );
  const done = Object.keys(NOT_YET).filter((f) => !reading.has(f));
  assert.equal(done, [], `no body read by hand left: take them off NOT_YET: ${done.join(", ")}`);
});

test.run();
