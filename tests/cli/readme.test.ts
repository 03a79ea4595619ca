/**
 * The docs' command table and sections match the commands' `--help`: every command is in the table
 * of docs/commands.md, nothing else is, and every option a command's help lists is named in its
 * table row or its own section (in docs/commands.md, or docs/recording.md for record, replay and
 * sim). The tree of where things live (docs/architecture.md) names folders and files that exist.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { commandNames, loadCommand } from "../../cli/main.ts";
import { ROOT } from "../_support/cli.ts";

const test = suite("docs commands");

const COMMANDS = readFileSync(join(ROOT, "docs", "commands.md"), "utf8");
/** The pages that hold a `## troupe <name>` section of a command. */
const SECTION_PAGES = [COMMANDS, readFileSync(join(ROOT, "docs", "recording.md"), "utf8")];
const ARCHITECTURE = readFileSync(join(ROOT, "docs", "architecture.md"), "utf8");

/** The table's rows under "# Commands": command name -> the row's text. */
function tableRows(): Map<string, string> {
  const section = COMMANDS.slice(COMMANDS.indexOf("# Commands"));
  const rows = new Map<string, string>();
  for (const line of section.split("\n")) {
    const m = line.match(/^\| `troupe ([a-z]+)[^`]*` +\|(.*)\|$/);
    if (m) rows.set(m[1]!, m[2]!);
    else if (rows.size > 0 && !line.startsWith("|")) break;
  }
  return rows;
}

/** The `## troupe <name>` sections of the pages, joined ("" when there is none). */
function sectionOf(name: string): string {
  return SECTION_PAGES.map((page) => {
    const start = page.indexOf(`## troupe ${name}\n`);
    if (start < 0) return "";
    const next = page.indexOf("\n#", start + 1);
    return page.slice(start, next < 0 ? undefined : next);
  }).join("\n");
}

test("the command table lists exactly the commands of troupe --help", () => {
  assert.equal([...tableRows().keys()].sort(), commandNames().sort());
});

test("every option of a command's --help is named in its table row or its docs section", async () => {
  const rows = tableRows();
  const missing: string[] = [];
  for (const name of commandNames()) {
    const command = await loadCommand(name);
    const text = `${rows.get(name) ?? ""}\n${sectionOf(name)}`;
    for (const option of Object.keys(command.options)) {
      if (!new RegExp(`--${option}\\b`).test(text)) missing.push(`troupe ${name} --${option}`);
    }
  }
  assert.equal(missing, [], `not in the docs: ${missing.join(", ")}`);
});

/** Every file under `dir` (relative to ROOT), without node_modules and dot-folders. */
function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.name === "node_modules" || e.name.startsWith(".")
      ? []
      : e.isDirectory()
      ? filesUnder(join(dir, e.name))
      : [join(dir, e.name)]
  );
}

test("the tree of where things live names folders and files that exist", () => {
  const start = ARCHITECTURE.indexOf("# Architecture: where things live");
  const open = ARCHITECTURE.indexOf("```\n", start) + 4;
  const block = ARCHITECTURE.slice(open, ARCHITECTURE.indexOf("\n```", open));
  const folders = [...block.matchAll(/^([a-z_/]+\/) /gm)].map((m) => m[1]!);
  assert.ok(folders.length >= 15, `${folders.length} folders`);
  const missingFolders = folders.filter((f) => !existsSync(join(ROOT, f)));
  assert.equal(missingFolders, [], `no such folder: ${missingFolders.join(", ")}`);
  const files = filesUnder(".").map((f) => f.split(/[\\/]/).pop()!);
  const named = [...block.matchAll(/([A-Za-z_*][\w.*]*\.(?:ts|md))\b/g)].map((m) => m[1]!);
  assert.ok(named.length >= 50, `${named.length} files`);
  const missing = named.filter((name) => {
    const pattern = new RegExp(`^${name.replaceAll(".", "\\.").replace("*", ".*")}$`);
    return !files.some((f) => pattern.test(f));
  });
  assert.equal(missing, [], `no such file: ${missing.join(", ")}`);
});

test.run();
