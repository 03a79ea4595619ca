/**
 * `troupe bench nab --data DIR` on a user's corpus: labels drawn between rows score the rows
 * inside them, and a corpus the scorer cannot use (a window holding no row, a timestamp that does
 * not parse) is said in one line naming the file and the value, exit 1, never a stack trace.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { runTroupe } from "../_support/cli.ts";
import { tempDir } from "../_support/nats.ts";

const test = suite("bench nab --data");

const T0 = Date.UTC(2014, 0, 1);

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace("Z", "000");
}

/** A one-file corpus of 400 five-minute rows with a jump at row 300, labelled by `windows`. */
function corpus(dir: string, windows: [string, string][], badRow?: string): void {
  mkdirSync(join(dir, "data", "cat"), { recursive: true });
  mkdirSync(join(dir, "labels"), { recursive: true });
  const rows = ["timestamp,value"];
  for (let i = 0; i < 400; i++) {
    const v = (i >= 300 && i < 310 ? 100 : 10) + ((i * 7919) % 13) / 13;
    rows.push(`${stamp(T0 + i * 300_000).slice(0, 19)},${v}`);
  }
  if (badRow) rows.splice(50, 0, badRow);
  writeFileSync(join(dir, "data", "cat", "f.csv"), rows.join("\n") + "\n");
  writeFileSync(
    join(dir, "labels", "combined_windows.json"),
    JSON.stringify({ "cat/f.csv": windows }),
  );
}

async function nab(dir: string) {
  return await runTroupe(["bench", "nab", "--data", dir, "--out", join(dir, "out"), "--json"]);
}

test("a window whose ends fall between rows is scored over the rows inside it", async () => {
  const dir = tempDir();
  try {
    // Rows are on the 5-minute marks; this window starts 2.5 minutes before row 300.
    corpus(dir.path, [[stamp(T0 + 299.5 * 300_000), stamp(T0 + 320.5 * 300_000)]]);
    const r = await nab(dir.path);
    assert.is(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Array<{ metric: string; troupe: number }>;
    assert.ok(rows.some((x) => x.metric === "nab_standard" && Number.isFinite(x.troupe)), r.stdout);
  } finally {
    dir.remove();
  }
});

test("a corpus the scorer cannot use is one line naming the file and the value, exit 1, no stack", async () => {
  const dir = tempDir();
  try {
    const lonely = stamp(T0 + 100.2 * 300_000);
    corpus(dir.path, [[lonely, stamp(T0 + 100.7 * 300_000)]]);
    const r = await nab(dir.path);
    assert.is(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^troupe bench nab: NAB file "cat\/f\.csv": window 0 \[2014-01-01 08:21/m,
    );
    assert.match(r.stderr, /holds no row of the file \(400 rows/);
    assert.not.match(r.stderr, /\n\s+at /, "no stack trace");
    corpus(dir.path, [], "01/04/2014 10:00,5");
    const bad = await nab(dir.path);
    assert.is(bad.code, 1, bad.stderr);
    assert.match(
      bad.stderr,
      /cat\/f\.csv" row 50: Cannot parse NAB timestamp "01\/04\/2014 10:00"/,
    );
    assert.not.match(bad.stderr, /\n\s+at /, "no stack trace");
  } finally {
    dir.remove();
  }
});

test.run();
