/**
 * The docs hold together: every relative link in every Markdown file of the tree resolves (the file
 * exists and, where the link names a heading, the heading does), no Markdown file runs past 600
 * lines, and the README, the front door, stays under 300. Links to the web are not followed.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ROOT } from "./_sources.ts";

const MARKDOWN_LINES_MAX = 600;
const README_LINES_MAX = 300;
const test = suite("docs links");

/** Every Markdown file below `dir` (node_modules and dot folders left out). */
export function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === "node_modules" || name.startsWith(".")) return [];
    if (statSync(path).isDirectory()) return markdownFiles(path);
    return name.endsWith(".md") ? [path] : [];
  });
}

/** `text` without its fenced code blocks, line count kept. */
function withoutBlocks(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, (b) => b.replace(/[^\n]/g, ""));
}

/** `text` without its fenced code blocks and inline code spans, line count kept. */
function prose(text: string): string {
  return withoutBlocks(text).replace(/`[^`\n]*`/g, "");
}

/** The targets of the inline links and images of `text` that are not URLs, with their lines. */
export function relativeLinks(text: string): { target: string; line: number }[] {
  const links: { target: string; line: number }[] = [];
  prose(text).split("\n").forEach((line, i) => {
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      links.push({ target, line: i + 1 });
    }
  });
  return links;
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, each space a hyphen. */
export function headingSlug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
}

/** The anchors of the headings of `text`, a repeated one numbered as GitHub does (`-1`, `-2`). */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutBlocks(text).split("\n")) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const slug = headingSlug(m[1]!);
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** What is wrong with the link `target` of the Markdown file `from`, or undefined. */
function brokenLink(from: string, target: string): string | undefined {
  const [pathPart = "", anchor] = target.split("#", 2);
  const path = decodeURIComponent(pathPart.split("?")[0]!);
  const file = path === "" ? from : join(dirname(from), path);
  if (!existsSync(file)) return `no file ${relative(ROOT, file).split(sep).join("/")}`;
  if (anchor === undefined || anchor === "" || !file.endsWith(".md")) return undefined;
  const anchors = headingAnchors(readFileSync(file, "utf8"));
  return anchors.has(anchor.toLowerCase()) ? undefined : `no heading #${anchor}`;
}

test("relativeLinks() finds links and images, leaving URLs, code and code blocks out", () => {
  const text = [
    "See [the wire](docs/wire.md#subjects) and ![a chart](img/chart.png).",
    "Not [the web](https://nats.io) nor [mail](mailto:a@b.c) nor `[code](x.md)`.",
    "```",
    "[in a block](nowhere.md)",
    "```",
    "[here](#quick-start)",
  ].join("\n");
  assert.equal(relativeLinks(text), [
    { target: "docs/wire.md#subjects", line: 1 },
    { target: "img/chart.png", line: 1 },
    { target: "#quick-start", line: 6 },
  ]);
});

test("headingAnchors() makes GitHub's anchors, numbering repeats", () => {
  const text = "# troupe\n## Host configuration (`troupe run --config host.json`)\n" +
    "### Delivery guarantees\n### Delivery guarantees\n```\n# not a heading\n```\n";
  assert.equal([...headingAnchors(text)], [
    "troupe",
    "host-configuration-troupe-run---config-hostjson",
    "delivery-guarantees",
    "delivery-guarantees-1",
  ]);
});

test("every relative link in the tree's Markdown resolves", () => {
  const broken: string[] = [];
  for (const file of markdownFiles(ROOT)) {
    const name = relative(ROOT, file).split(sep).join("/");
    for (const { target, line } of relativeLinks(readFileSync(file, "utf8"))) {
      const why = brokenLink(file, target);
      if (why) broken.push(`${name}:${line}: (${target}): ${why}`);
    }
  }
  assert.equal(broken, [], `${broken.length} broken link(s):\n${broken.join("\n")}`);
});

test(`no Markdown file runs past ${MARKDOWN_LINES_MAX} lines, and README.md not past ${README_LINES_MAX}`, () => {
  const long: string[] = [];
  for (const file of markdownFiles(ROOT)) {
    const name = relative(ROOT, file).split(sep).join("/");
    const lines = readFileSync(file, "utf8").replace(/\n$/, "").split("\n").length;
    const max = name === "README.md" ? README_LINES_MAX : MARKDOWN_LINES_MAX;
    if (lines > max) long.push(`${name}: ${lines} lines, at most ${max}`);
  }
  assert.equal(long, [], long.join("\n"));
});

test.run();
