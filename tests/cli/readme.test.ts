/**
 * The README's command table and sections match the commands' `--help`: every command is in the
 * table, nothing else is, and every option a command's help lists is named in its table row or its
 * own section of the README.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { commandNames, loadCommand } from "../../cli/main.ts";
import { ROOT } from "../_support/cli.ts";

const test = suite("README commands");

const README = readFileSync(join(ROOT, "README.md"), "utf8");

/** The table's rows under "## Commands": command name -> the row's text. */
function tableRows(): Map<string, string> {
  const section = README.slice(README.indexOf("## Commands"));
  const rows = new Map<string, string>();
  for (const line of section.split("\n")) {
    const m = line.match(/^\| `troupe ([a-z]+)[^`]*` +\|(.*)\|$/);
    if (m) rows.set(m[1]!, m[2]!);
    else if (rows.size > 0 && !line.startsWith("|")) break;
  }
  return rows;
}

/** The README's `### troupe <name>` section, if it has one. */
function sectionOf(name: string): string {
  const start = README.indexOf(`### troupe ${name}\n`);
  if (start < 0) return "";
  const next = README.indexOf("\n#", start + 1);
  return README.slice(start, next < 0 ? undefined : next);
}

test("the command table lists exactly the commands of troupe --help", () => {
  assert.equal([...tableRows().keys()].sort(), commandNames().sort());
});

test("every option of a command's --help is named in its table row or its README section", async () => {
  const rows = tableRows();
  const missing: string[] = [];
  for (const name of commandNames()) {
    const command = await loadCommand(name);
    const text = `${rows.get(name) ?? ""}\n${sectionOf(name)}`;
    for (const option of Object.keys(command.options)) {
      if (!new RegExp(`--${option}\\b`).test(text)) missing.push(`troupe ${name} --${option}`);
    }
  }
  assert.equal(missing, [], `not in the README: ${missing.join(", ")}`);
});

test.run();
