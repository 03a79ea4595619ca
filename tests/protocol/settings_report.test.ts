import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  decodeSettingsReport,
  encodeSettingsReport,
  encodeValue,
  ProtocolError,
  settingsQuerySubject,
  settingsReportSubject,
} from "../../protocol/mod.ts";
import { mergeReports } from "../../collab/session/applied_settings.ts";

const test = suite("settings reports on the wire");

test("encodeSettingsReport() and decodeSettingsReport() round-trip a host's settings", () => {
  const report = {
    host: "h1",
    atMs: 1_700_000_000_123,
    kinds: {
      anomaly: { threshold: 0.5, warmup_samples: 200 },
      coherence: { groups: { eq: ["a"] } },
    },
    keys: { anomaly: { c1: { threshold: 0.3, warmup_samples: 200 } } },
  };
  assert.equal(decodeSettingsReport(encodeSettingsReport(report)), report);
  assert.equal(decodeSettingsReport(encodeSettingsReport({ ...report, keys: {} })).keys, {});
});

test("decodeSettingsReport() names the field and the value it rejects", () => {
  const base = { v: 1, host: "h1", at_ms: 5, kinds: {}, keys: {} };
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ ...base, host: "a.b" }, /field "host" must be a host id .*got "a\.b"/],
    [{ ...base, at_ms: 1.5 }, /"settings report\.at_ms" must be an integer, got 1\.5/],
    [{ ...base, kinds: [1] }, /field "kinds" must be a msgpack map, got array of 1/],
    [{ ...base, kinds: { anomaly: 3 } }, /field "kinds\.anomaly" must be a map of settings, got 3/],
    [
      { ...base, keys: { anomaly: { "c.1": {} } } },
      /field "keys\.anomaly" must be keyed by actor keys, got "c\.1"/,
    ],
    [{ ...base, v: 2 }, /field "v" must be 1, got 2/],
  ];
  for (const [value, message] of cases) {
    try {
      decodeSettingsReport(encodeValue(value));
      assert.unreachable(JSON.stringify(value));
    } catch (err) {
      assert.instance(err, ProtocolError);
      assert.match((err as Error).message, message);
    }
  }
});

test("the query and report subjects are troupe.sys subjects", () => {
  assert.is(settingsQuerySubject(), "troupe.sys.settings.query");
  assert.is(settingsReportSubject(), "troupe.sys.settings.report");
});

test("mergeReports() keeps the newest report's kind settings and every host's keys", () => {
  const merged = mergeReports([
    {
      host: "h2",
      atMs: 20,
      kinds: { anomaly: { threshold: 0.5 } },
      keys: { anomaly: { c2: { threshold: 0.1 } } },
    },
    {
      host: "h1",
      atMs: 10,
      kinds: { anomaly: { threshold: 0.8 } },
      keys: { anomaly: { c1: { threshold: 0.3 } } },
    },
  ]);
  assert.equal(merged.get("anomaly"), { settings: { threshold: 0.5 }, host: "h2", at_ms: 20 });
  assert.equal(merged.get("anomaly/c1"), { settings: { threshold: 0.3 }, host: "h1", at_ms: 10 });
  assert.equal(merged.get("anomaly/c2"), { settings: { threshold: 0.1 }, host: "h2", at_ms: 20 });
  assert.is(merged.size, 3);
});

test("mergeReports() names every host whose report says the newest settings (a threaded host's threads)", () => {
  const report = (host: string, atMs: number, threshold: number) => ({
    host,
    atMs,
    kinds: { anomaly: { threshold } },
    keys: {},
  });
  const merged = mergeReports([
    report("h1-t1", 30, 0.5),
    report("h2", 20, 0.8),
    report("h1-t0", 10, 0.5),
  ]);
  assert.equal(merged.get("anomaly"), {
    settings: { threshold: 0.5 },
    host: "h1-t0, h1-t1",
    at_ms: 30,
  });
  const many = mergeReports(Array.from({ length: 40 }, (_, i) => report(`host-${i}`, i, 0.5)));
  assert.is(many.get("anomaly")!.host, "40 hosts");
});

test.run();
