/**
 * `troupe up` runs bars and scan workers over its synthetic market feed: the README's first scan,
 * run as the README runs it (`troupe scan`, the URL found in the data directory's http.url),
 * returns results within the feed's first minute; a bar size it does not keep is refused.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runTroupe, startTroupe } from "../_support/cli.ts";
import { tempDir } from "../_support/nats.ts";
import { upArgs } from "./_up.ts";

const test = suite("troupe up scans");

/** The README's first scan. */
const FIRST_SCAN = [
  "scan",
  "rsi(14) < 50 or close > sma(20)",
  "--rank",
  "rsi(14)",
  "--order",
  "asc",
  "--bar",
  "1s",
];

test("troupe up serves scans over its feed: the README's first scan returns results within the first minute", async () => {
  const dir = tempDir();
  const data = join(dir.path, "d");
  const up = startTroupe(upArgs(data, ["--no-nats", "--channels", "6"]));
  try {
    await up.waitFor("injecting the synthetic market feed", 60_000);
    const t0 = Date.now();
    const urlFile = join(data, "http.url");
    assert.ok(existsSync(urlFile), "troupe up writes http.url");
    const url = readFileSync(urlFile, "utf8").trim();
    assert.match(up.output(), `scans: troupe scan, or POST ${url}/scan/stream`);
    let rows: Array<{ seq: number; symbol: string; rank: number }> = [];
    let last = "";
    while (rows.length === 0 && Date.now() - t0 < 60_000) {
      await new Promise((r) => setTimeout(r, 3000));
      const r = await runTroupe([...FIRST_SCAN, "--json", "--url", url]);
      assert.is(r.code, 0, r.stderr);
      last = r.stderr;
      rows = r.stdout.trim() === "" ? [] : r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    }
    assert.ok(rows.length > 0, `no result within a minute; last summary: ${last}`);
    assert.ok(rows.every((r) => /^SYM00[1-6]$/.test(r.symbol)), JSON.stringify(rows));
    const ranks = rows.map((r) => r.rank);
    assert.equal(ranks, [...ranks].sort((a, b) => a - b), "most oversold first");
    assert.match(last, /done: 6 of 6 symbols/);
    // A bar size the bars do not keep is refused, naming the sizes they keep, not scanned to
    // "no symbol met the criteria".
    const odd = await runTroupe([...FIRST_SCAN.slice(0, -1), "2s", "--url", url]);
    assert.is(odd.code, 2, odd.stderr);
    assert.match(
      odd.stderr,
      /Field "bar" is "2s", a size the bars do not keep; they keep 1s, 1m, 5m, 1h, 1d/,
    );
  } finally {
    up.signal("SIGINT");
    assert.is(await up.exited, 0, up.output());
    assert.not.ok(existsSync(join(data, "http.url")), "http.url removed on stop");
    dir.remove();
  }
});

test.run();
