/**
 * The receiver's channel names kept as bytes: a request's feed batch carries the runs of them
 * its names lie in, which must be its channels joined by "," whatever order its series come in,
 * and stay so while the bytes grow, are compacted, or give a place back.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ChannelNameBytes, type NamePlace } from "../../../actors/ingest/_channel_name_bytes.ts";
import {
  type IncomingSeries,
  type SampleOutcome,
  seriesSamples,
  SeriesTable,
} from "../../../actors/ingest/mod.ts";
import { decodeFeedBatch, encodeFeedBatch, type FeedBatch } from "../../../protocol/mod.ts";
import {
  decodeLabels,
  decodeWriteRequest,
  encodeWriteRequest,
} from "../../../protocol/prometheus/mod.ts";

const test = suite("channel name bytes");
const ascii = new TextDecoder("latin1");
const T0 = 1_700_000_000_000;

/** A request of the series `ids` (metric `m_<id>`, instance `host-<id>`), each one sample. */
function request(ids: number[], t: number, value = (id: number) => id): IncomingSeries {
  const cols = decodeWriteRequest(encodeWriteRequest({
    timeseries: ids.map((id) => ({
      labels: [
        { name: "__name__", value: `m_${id % 7}_seconds` },
        { name: "instance", value: `host-${id}:9100` },
      ],
      samples: [{ value: value(id), timestamp: t }],
    })),
  }));
  return {
    count: cols.series,
    keyBytes: cols.labelBytes,
    keyFrom: cols.labelsFrom,
    keyTo: cols.labelsTo,
    labels: (i) => decodeLabels(cols.labelBytes, cols.labelsFrom[i]!, cols.labelsTo[i]!, "ts"),
    refused: (i) => cols.refused[i],
    where: (i) => `timeseries[${i}]`,
    from: cols.samplesFrom,
    t: cols.t,
    v: cols.v,
  };
}

const times = (now: number) => ({ latest: now + 60_000, now, futureMsMax: 60_000 });

/** The batch's names bytes as text, or undefined when it carries none. */
const namesOf = (b: FeedBatch) =>
  b.names === undefined ? undefined : b.names.map((p) => ascii.decode(p)).join("");

/** Each batch's names are its channels joined, and its message reads back its channels. */
function checkBatches(out: SampleOutcome, what: string): void {
  for (const b of out.batches) {
    assert.is(namesOf(b), b.channels.join(","), what);
    const bytes = encodeFeedBatch(b, { id: what, src: "r", ts: 0 }, { namesChecked: true });
    assert.equal(decodeFeedBatch(bytes).batch.channels, b.channels, what);
    assert.equal(
      bytes,
      encodeFeedBatch(
        { channels: b.channels, n: b.n, t: b.t, v: b.v },
        { id: what, src: "r", ts: 0 },
      ),
    );
  }
}

test("a batch's names are its channels joined, in as many pieces as its order breaks runs", () => {
  const table = new SeriesTable({ match: [] }, 100_000);
  const ids = Array.from({ length: 600 }, (_, i) => i);
  // 600 names of some 25 bytes: the bytes grow from 4 KB while the first request is read.
  const first = seriesSamples(request(ids, T0), table, times(T0));
  checkBatches(first, "first");
  assert.is(first.batches[0]!.names!.length, 1);
  const again = seriesSamples(request(ids, T0 + 15_000), table, times(T0 + 15_000));
  checkBatches(again, "again");
  assert.is(again.batches[0]!.names!.length, 1);
  const reversed = seriesSamples(request([...ids].reverse(), T0 + 30_000), table, times(T0));
  checkBatches(reversed, "reversed");
  assert.is(reversed.batches[0]!.names!.length, 600);
  // Every other series, with new ones between them.
  const mixed = ids.flatMap((i) => (i % 2 === 0 ? [i, 1000 + i] : []));
  const third = seriesSamples(request(mixed, T0 + 45_000), table, times(T0));
  checkBatches(third, "mixed");
  assert.is(third.batches[0]!.channels.length, 600);
  assert.is(table.channels, 900);
});

test("a series given back and taken again has its name where it was; one past ASCII is joined", () => {
  const table = new SeriesTable({ match: [] }, 100_000);
  seriesSamples(request([1, 2, 3], T0), table, times(T0));
  // A new series none of whose samples is taken gives its channel back.
  const refused = seriesSamples(request([4], T0, () => NaN), table, times(T0));
  assert.is(refused.batches.length, 0);
  assert.is(table.channels, 3);
  const taken = seriesSamples(request([1, 4, 2, 3], T0 + 15_000), table, times(T0));
  checkBatches(taken, "taken again");
  assert.is(taken.batches[0]!.names!.length, 3);
  // A name the record holds is what its series gets, whatever its characters.
  table.reserve("hôte-5-m_5_seconds", [
    { name: "__name__", value: "m_5_seconds" },
    { name: "instance", value: "host-5:9100" },
  ]);
  const past = seriesSamples(request([1, 5], T0 + 30_000), table, times(T0));
  assert.is(past.batches[0]!.names, undefined);
  assert.equal(past.batches[0]!.channels, ["host-1_9100-m_1_seconds", "hôte-5-m_5_seconds"]);
});

test("names read before the bytes grow or are compacted stay whole; the names move together", () => {
  const names = new ChannelNameBytes();
  const live: NamePlace[] = [];
  const place = (p: NamePlace) => names.place(p, () => live);
  const read = (p: NamePlace) =>
    ascii.decode(names.bytes.subarray(p.nameAt, p.nameAt + p.channel.length + 1));
  for (let i = 0; i < 40_000; i++) {
    const p = { nameAt: -1, nameLength: 0, channel: `series-${i}-name_of_thirty_bytes` };
    place(p);
    live.push(p);
  }
  const early = names.bytes.subarray(live[0]!.nameAt, live[2]!.nameAt);
  assert.is(ascii.decode(early), `${live[0]!.channel},${live[1]!.channel},`);
  // Given back and taken again under a name as long: in place.
  const at = live[7]!.nameAt;
  live[7]!.channel = "series-7-name_of_thirty_BYTES";
  place(live[7]!);
  assert.is(live[7]!.nameAt, at);
  assert.is(read(live[7]!), "series-7-name_of_thirty_BYTES,");
  // Names of another length each take a new place; past a MiB given up the bytes are compacted.
  const before = names.bytes;
  for (let i = 0; i < 40_000; i++) {
    live[i]!.channel = `s${i}`;
    place(live[i]!);
  }
  assert.ok(names.bytes !== before, "compacted into a new array");
  assert.is(ascii.decode(early), "series-0-name_of_thirty_bytes,series-1-name_of_thirty_bytes,");
  for (const i of [0, 7, 20_000, 39_999]) assert.is(read(live[i]!), `s${i},`);
  const last = live[39_999]!;
  assert.ok(last.nameAt + 7 < names.bytes.length / 2, "the names moved together");
  // A name past ASCII has no bytes.
  const other = { nameAt: -1, nameLength: 0, channel: "hôte" };
  place(other);
  assert.is(other.nameAt, -1);
});

test.run();
