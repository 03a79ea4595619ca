import { suite } from "uvu";
import * as assert from "uvu/assert";
import { keySource, SeriesTable } from "../../../actors/ingest/series_table.ts";
import { type Label, parseLabelSelector } from "../../../protocol/prometheus/mod.ts";

const test = suite("series table");
const utf8 = new TextEncoder();

/** Series keys laid end to end in one buffer, as a request holds them, `pad` bytes apart. */
function request(keys: string[], pad = 3) {
  const parts = keys.map((k) => utf8.encode(k));
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length + pad, pad));
  const spans: Array<[number, number]> = [];
  let at = pad;
  for (const p of parts) {
    bytes.set(p, at);
    spans.push([at, at + p.length]);
    at += p.length + pad;
  }
  return { src: keySource(bytes), spans };
}

const labelsOf = (key: string): Label[] => [
  { name: "__name__", value: key.split("|")[0]! },
  { name: "job", value: key.split("|")[1] ?? "api" },
];

/** Finds (or adds) each key of a request in order, as the receiver does; their entries. */
function walk(table: SeriesTable, keys: string[], pad?: number) {
  const { src, spans } = request(keys, pad);
  let before: ReturnType<SeriesTable["find"]>;
  return spans.map(([from, to], i) => {
    const s = table.find(src, from, to, before) ??
      table.add(src, from, to, labelsOf(keys[i]!), before);
    before = s;
    return s;
  });
}

test("find() knows a series by its bytes whatever the order or place it comes in", () => {
  const table = new SeriesTable({ match: [] }, 1000);
  // Keys of every length modulo 4 and keys that differ only in their last byte.
  const keys = ["a|x", "ab|x", "abc|x", "abcd|x", "abcd|y", "abcd|yy", "m|long-job-name-0"];
  const first = walk(table, keys);
  assert.equal(new Set(first.map((s) => s.channel)).size, keys.length);
  assert.equal(table.channels, keys.length);
  const shuffled = [3, 0, 6, 5, 1, 4, 2].map((i) => keys[i]!);
  const again = walk(table, shuffled, 5);
  shuffled.forEach((k, i) => assert.is(again[i], first[keys.indexOf(k)], k));
  // The same order again (each found as the one that followed the one before it).
  const third = walk(table, keys, 1);
  keys.forEach((k, i) => assert.is(third[i], first[i], k));
  assert.equal(table.channels, keys.length);
  // A key that is a prefix of another is another series.
  const [short] = walk(table, ["abcd|"]);
  assert.ok(!first.includes(short!));
});

test("a series' last sample is kept by its id, apart from every other's", () => {
  const table = new SeriesTable({ match: [] }, 1000);
  const keys = Array.from({ length: 300 }, (_, i) => `metric_${i}|api`);
  const entries = walk(table, keys);
  entries.forEach((s, i) => {
    table.lastT[s.id] = 1000 + i;
    table.lastV[s.id] = i * 2;
  });
  const again = walk(table, [...keys].reverse());
  again.forEach((s, i) => {
    assert.is(table.lastT[s.id], 1000 + (keys.length - 1 - i));
    assert.is(table.lastV[s.id], (keys.length - 1 - i) * 2);
  });
});

test("series not taken are forgotten past their bound, and those taken are still found", () => {
  const table = new SeriesTable({ match: [parseLabelSelector('{job="api"}')] }, 1000);
  const taken = walk(table, ["kept_a|api", "kept_b|api", "kept_c|api"]);
  taken.forEach((s, i) => (table.lastT[s.id] = 7 + i));
  // 100,000 unmatched series (the bound), then more: that memory starts again.
  const skipped: string[] = [];
  for (let i = 0; i < 100_050; i++) skipped.push(`drop_${i}|other`);
  const dropped = walk(table, skipped);
  assert.ok(dropped.every((s) => s.skipped === "unmatched"));
  const found = walk(table, ["kept_b|api", "kept_a|api", "kept_c|api"]);
  assert.is(found[0], taken[1]);
  assert.is(found[1], taken[0]);
  assert.is(found[2], taken[2]);
  assert.equal(found.map((s) => table.lastT[s.id]), [8, 7, 9]);
  // A forgotten one is matched again (a new entry); one remembered since is the same.
  const [early, late] = walk(table, ["drop_0|other", "drop_100049|other"]);
  assert.is.not(early, dropped[0]);
  assert.is(late, dropped[100_049]);
});

test("a new series past the channel limit is refused and not remembered", () => {
  const table = new SeriesTable({ match: [] }, 2);
  const [a, b, c] = walk(table, ["a|api", "b|api", "c|api"]);
  assert.is(a!.skipped, "");
  assert.is(b!.skipped, "");
  assert.is(c!.skipped, "channel_limit");
  const { src, spans } = request(["c|api"]);
  assert.is(table.find(src, spans[0]![0], spans[0]![1], undefined), undefined);
});

test("a vacated series gives its channel back; a channel of the record stays counted", () => {
  const table = new SeriesTable({ match: [] }, 2);
  const [a] = walk(table, ["a|api"]);
  table.vacate(a!);
  assert.is(a!.skipped, "vacant");
  assert.is(table.channels, 0);
  const [b, c] = walk(table, ["b|api", "c|api"]);
  assert.equal([b!.skipped, c!.skipped], ["", ""]);
  // Found again, the vacant series is claimed only where there is room.
  assert.not.ok(table.claim(a!, labelsOf("a|api")));
  table.vacate(b!);
  assert.ok(table.claim(a!, labelsOf("a|api")));
  assert.is(a!.channel, "api-a");
  assert.ok(Number.isNaN(table.lastT[a!.id]!), "a claimed series starts with no last sample");

  const recorded = new SeriesTable({ match: [] }, 2);
  recorded.reserve("api-r", labelsOf("r|api"));
  assert.is(recorded.channels, 1);
  const [r] = walk(recorded, ["r|api"]);
  assert.is(r!.channel, "api-r");
  recorded.vacate(r!);
  assert.is(recorded.channels, 1, "the record's channel is still counted");
});

test("a recorded label set gets its name back, whatever comes first; the other gets the hashed form", () => {
  const table = new SeriesTable({ match: [] }, 10);
  const dotted: Label[] = [{ name: "__name__", value: "m" }, { name: "a", value: "x.y" }];
  const under: Label[] = [{ name: "__name__", value: "m" }, { name: "a", value: "x_y" }];
  table.reserve("x_y-m", dotted);
  const { src, spans } = request(["under", "dotted"]);
  const u = table.add(src, spans[0]![0], spans[0]![1], under, undefined);
  const d = table.add(src, spans[1]![0], spans[1]![1], dotted, u);
  assert.is(d.channel, "x_y-m");
  assert.match(u.channel, /^x_y-[0-9a-f]{8}-m$/);
  assert.is(table.channels, 2);
});

test.run();
