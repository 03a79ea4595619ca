/**
 * findingJson() is the object `troupe watch --findings --json` prints a line of: the finding, its
 * time as an ISO string too, its sequence number, and its binary details in base64.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { type Finding, findingJson } from "../../collab/mod.ts";

const test = suite("finding json");

test("findingJson() gives the time both ways, the seq, and raw bytes in base64", () => {
  const f: Finding = {
    kind: "dlq",
    ts_us: 1_800_000_000_123_456,
    channel: "decode",
    what: "dead letter",
    strength: "",
    severity: 2,
    subject: "troupe.dlq.decode",
    detail: { type: "dlq", reason: "decode", raw: new Uint8Array([0, 1, 250, 255]), n: 3 },
  };
  assert.equal(findingJson(f, 42), {
    time: "2027-01-15T08:00:00.123Z",
    ts_us: 1_800_000_000_123_456,
    kind: "dlq",
    channel: "decode",
    what: "dead letter",
    strength: "",
    severity: 2,
    unit: "",
    subject: "troupe.dlq.decode",
    seq: 42,
    detail: { type: "dlq", reason: "decode", raw: "AAH6/w==", n: 3 },
  });
});

test.run();
