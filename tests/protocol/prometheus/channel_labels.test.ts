import { suite } from "uvu";
import * as assert from "uvu/assert";
import { encodeValue, ProtocolError } from "../../../protocol/mod.ts";
import {
  CHANNEL_LABELS_MAX,
  channelLabelsKey,
  decodeChannelLabels,
  decodeChannelLabelsList,
  encodeChannelLabels,
  encodeChannelLabelsList,
} from "../../../protocol/prometheus/mod.ts";

const test = suite("channel labels");

const labels = [
  { name: "job", value: "node" },
  { name: "__name__", value: "node_load1" },
  { name: "instance", value: "127.0.0.1:9100" },
];

test("round trip: the labels come back sorted by name; one label set is one encoding", () => {
  const bytes = encodeChannelLabels({ channel: "127_0_0_1_9100-node-node_load1", labels });
  const back = decodeChannelLabels(bytes);
  assert.is(back.channel, "127_0_0_1_9100-node-node_load1");
  assert.equal(back.labels.map((l) => l.name), ["__name__", "instance", "job"]);
  assert.equal(back.labels.find((l) => l.name === "instance")?.value, "127.0.0.1:9100");
  assert.equal(
    encodeChannelLabels({ channel: back.channel, labels: [...labels].reverse() }),
    bytes,
  );
  assert.is(channelLabelsKey(back.channel), back.channel);
});

test("what is wrong is named with its field and value", () => {
  const refused = (f: () => unknown, text: string) => {
    try {
      f();
    } catch (err) {
      assert.instance(err, ProtocolError);
      assert.match((err as Error).message, text);
      return;
    }
    assert.unreachable(`no error; wanted ${text}`);
  };
  refused(() => encodeChannelLabels({ channel: "a.b", labels }), 'field "channel"');
  refused(() => channelLabelsKey("a b"), 'field "channel"');
  refused(
    () => encodeChannelLabels({ channel: "c", labels: [{ name: "1x", value: "" }] }),
    'field "labels[0].name"',
  );
  refused(
    () => encodeChannelLabels({ channel: "c", labels: [{ name: "x", value: "v".repeat(5000) }] }),
    'field "labels[0].value" must be at most 2048 characters, got 5000',
  );
  const many = Array.from({ length: CHANNEL_LABELS_MAX + 1 }, (_, i) => [`l${i}`, "v"]);
  refused(
    () => decodeChannelLabels(encodeValue({ v: 1, channel: "c", labels: many })),
    `at most ${CHANNEL_LABELS_MAX} labels`,
  );
  refused(
    () => decodeChannelLabels(encodeValue({ v: 1, channel: "c", labels: [["x", 3]] })),
    'field "labels[0]"',
  );
  refused(() => decodeChannelLabels(encodeValue({ v: 2, channel: "c", labels: [] })), 'field "v"');
});

test("a list of channels' labels round-trips; a bad entry is named by its place", () => {
  const list = [
    { channel: "a-node_load1", labels },
    { channel: "b", labels: [] },
  ];
  const back = decodeChannelLabelsList(encodeChannelLabelsList(list));
  assert.equal(back, list);
  const bad = encodeValue({ v: 1, channels: [["a", []], ["b", [["job", 7]]]] });
  try {
    decodeChannelLabelsList(bad);
    assert.unreachable("a label value that is a number");
  } catch (err) {
    assert.instance(err, ProtocolError);
    assert.match((err as Error).message, /field "channels\[1\]\.labels\[0\]" must be/);
  }
  const badName = encodeValue({ v: 1, channels: [["a.b", []]] });
  assert.throws(() => decodeChannelLabelsList(badName), /channels\[0\]: field "channel"/);
});

test.run();
