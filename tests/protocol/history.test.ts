import { suite } from "uvu";
import * as assert from "uvu/assert";
import { throwsOn } from "../_support/throws_on.ts";
import {
  decodeHistoryRequest,
  decodeHistoryResponse,
  encodeHistoryRequest,
  encodeHistoryResponse,
  encodeValue,
  HISTORY_BAR_COLUMNS,
  HISTORY_LIMITS,
  historyQuery,
  type HistoryRequest,
  historyRequestOfQuery,
  type HistoryResponse,
  type Incident,
  ProtocolError,
} from "../../protocol/mod.ts";

const test = suite("history wire");
const T0 = 1_800_000_000_000_000;
const REQUEST: HistoryRequest = {
  channel: "BTC-USD",
  t0_us: T0,
  t1_us: T0 + 86_400_000_000,
  points_max: 1000,
};

const INCIDENT: Incident = {
  id: `anomaly-${T0 + 1e6}-BTC-USD`,
  kind: "anomaly",
  state: "resolved",
  fired: true,
  silenced: false,
  members: [
    { channel: "BTC-USD", first_us: T0 + 1e6, last_us: T0 + 9e6, findings: 3, peak_severity: 4 },
    { channel: "ETH-USD", first_us: T0 + 2e6, last_us: T0 + 2e6, findings: 1, peak_severity: 2 },
  ],
  first_us: T0 + 1e6,
  last_us: T0 + 9e6,
  first_finding: "f-1",
  last_finding: "f-4",
  findings: 4,
  peak_severity: 4,
  links: ["collapse-1-BTC-USD"],
};

function response(): HistoryResponse {
  return {
    channel: "BTC-USD",
    t0_us: T0,
    t1_us: T0 + 60_000_000,
    bucket_us: 240_000,
    samples: 60,
    samples_since_us: T0 - 3,
    t: Float64Array.of(T0, T0 + 1e6, T0 + 2e6),
    v: Float64Array.of(100.5, -3, 1e300),
    bars: {
      size_us: 60_000_000,
      t: Float64Array.of(T0 - 20_000_000, T0 + 40_000_000),
      open: Float64Array.of(100.5, 7),
      high: Float64Array.of(1e300, 9.25),
      low: Float64Array.of(-3, -0.5),
      close: Float64Array.of(-3, 8),
      count: Float64Array.of(40, 20),
    },
    findings: [
      { kind: "anomaly", ts_us: T0 + 1e6, what: "value 5, above the band", severity: 0.93 },
      { kind: "collapse", ts_us: T0 + 2e6, what: "level 1 -> 2", severity: null },
    ],
    findings_since_us: T0 - 5,
    incidents: [INCIDENT],
    incidents_since_us: T0 - 7,
  };
}

function throwsProtocol(fn: () => unknown, field: string, message: RegExp): void {
  throwsOn(ProtocolError, fn, field, message);
}

test("encodeHistoryRequest() and decodeHistoryRequest() round-trip a request", () => {
  assert.equal(decodeHistoryRequest(encodeHistoryRequest(REQUEST)), REQUEST);
});

test("historyQuery() and historyRequestOfQuery() round-trip a request through a URL", () => {
  const url = new URL(`http://x/history?token=T&${historyQuery(REQUEST)}`);
  assert.equal(historyRequestOfQuery(url.searchParams), REQUEST);
});

/** An answer with its columns as plain arrays, to compare. */
function plain(r: HistoryResponse) {
  const bars: Record<string, unknown> = { size_us: r.bars.size_us };
  for (const c of HISTORY_BAR_COLUMNS) bars[c] = [...r.bars[c]];
  return { ...r, t: [...r.t], v: [...r.v], bars };
}

test("encodeHistoryResponse() and decodeHistoryResponse() round-trip an answer", () => {
  const r = response();
  const back = decodeHistoryResponse(encodeHistoryResponse(r));
  assert.equal(plain(back), plain(r));
  const empty = { ...r, t: new Float64Array(0), v: new Float64Array(0), findings: [] };
  const none = decodeHistoryResponse(encodeHistoryResponse({ ...empty, findings_since_us: null }));
  assert.is(none.t.length, 0);
  assert.is(none.findings_since_us, null);
  const noIncidents = { ...empty, incidents: [], incidents_since_us: null };
  const back2 = decodeHistoryResponse(encodeHistoryResponse(noIncidents));
  assert.equal(back2.incidents, []);
  assert.is(back2.incidents_since_us, null);
  const unsaid = decodeHistoryResponse(encodeHistoryResponse({ ...empty, samples_since_us: null }));
  assert.is(unsaid.samples_since_us, null);
  assert.is(back.samples_since_us, T0 - 3);
});

test("decodeHistoryResponse() names the incident and the field that is wrong, and its value", () => {
  const m = decodeHistoryResponse(encodeHistoryResponse(response()));
  const empty = { ...m, t: new Uint8Array(0), v: new Uint8Array(0), findings: [] };
  const bad = (incidents: unknown) => encodeValue({ ...empty, incidents });
  throwsProtocol(
    () => decodeHistoryResponse(bad([INCIDENT, { ...INCIDENT, state: "open" }])),
    "incidents[1].state",
    /History response field "incidents\[1\]\.state" must be one of .*, got "open"/,
  );
  const member = { ...INCIDENT.members[0]!, peak_severity: 9 };
  throwsProtocol(
    () => decodeHistoryResponse(bad([{ ...INCIDENT, members: [member] }])),
    "incidents[0].members[0].peak_severity",
    /from 1 to 5, got 9/,
  );
  throwsProtocol(() => decodeHistoryResponse(bad(7)), "incidents", /must be an array .* got 7/);
  throwsProtocol(
    () => decodeHistoryResponse(encodeValue({ ...empty, incidents_since_us: "x" })),
    "incidents_since_us",
    /integer/,
  );
  throwsProtocol(
    () => decodeHistoryResponse(encodeValue({ ...empty, samples_since_us: 1.5 })),
    "samples_since_us",
    /integer.*1\.5/,
  );
});

test("historyRequestOfQuery() names the field that is missing or wrong, and its value", () => {
  const q = (s: string) => () => historyRequestOfQuery(new URLSearchParams(s));
  throwsProtocol(q("t0_us=1&t1_us=2&points_max=8"), "channel", /"channel" is missing/);
  throwsProtocol(q("channel=a.b&t0_us=1&t1_us=2&points_max=8"), "channel", /"a\.b"/);
  throwsProtocol(q("channel=A&t1_us=2&points_max=8"), "t0_us", /"t0_us" is missing/);
  throwsProtocol(q("channel=A&t0_us=1.5&t1_us=2&points_max=8"), "t0_us", /integer, got "1\.5"/);
  throwsProtocol(q("channel=A&t0_us=5&t1_us=5&points_max=8"), "t1_us", /t0_us 5 and t1_us 5/);
  throwsProtocol(q("channel=A&t0_us=1&t1_us=2&points_max=3"), "points_max", /4\.\.16384, got 3/);
  const wide = `channel=A&t0_us=0&t1_us=${HISTORY_LIMITS.span_us_max + 1}&points_max=8`;
  throwsProtocol(q(wide), "t1_us", /over the limit/);
});

test("decodeHistoryRequest() and decodeHistoryResponse() reject malformed maps by field", () => {
  throwsProtocol(() => decodeHistoryRequest(encodeValue([1])), "message", /msgpack map/);
  throwsProtocol(
    () => decodeHistoryRequest(encodeValue({ ...REQUEST, points_max: "9" })),
    "points_max",
    /integer/,
  );
  const bytes = encodeHistoryResponse(response());
  const m = decodeHistoryResponse(bytes);
  const short = encodeValue({
    ...m,
    t: new Uint8Array(16),
    v: new Uint8Array(8),
    findings: [],
  });
  throwsProtocol(() => decodeHistoryResponse(short), "v", /2 times and 1 values/);
  const badFinding = encodeValue({
    ...m,
    t: new Uint8Array(0),
    v: new Uint8Array(0),
    findings: [["anomaly", 1, "x"]],
  });
  throwsProtocol(() => decodeHistoryResponse(badFinding), "findings[0]", /\[kind, ts_us/);
});

test("decodeHistoryResponse() rejects bars whose columns differ or whose size is not positive", () => {
  const m = decodeHistoryResponse(encodeHistoryResponse(response()));
  const bin = (n: number) => new Uint8Array(n * 8);
  const bars = (over: Record<string, unknown>) =>
    encodeValue({
      ...m,
      t: bin(0),
      v: bin(0),
      findings: [],
      bars: {
        size_us: 1e6,
        t: bin(2),
        open: bin(2),
        high: bin(2),
        low: bin(2),
        close: bin(2),
        count: bin(2),
        ...over,
      },
    });
  throwsProtocol(
    () => decodeHistoryResponse(bars({ high: bin(1) })),
    "bars.high",
    /2 bar times and 1/,
  );
  throwsProtocol(() => decodeHistoryResponse(bars({ count: undefined })), "bars.count", /missing/);
  throwsProtocol(
    () => decodeHistoryResponse(bars({ size_us: 0 })),
    "bars.size_us",
    /positive, got 0/,
  );
  const noBars = encodeValue({ ...m, t: bin(0), v: bin(0), findings: [], bars: 7 });
  throwsProtocol(
    () => decodeHistoryResponse(noBars),
    "message",
    /"bars" must be a msgpack map, got 7/,
  );
});

test.run();
