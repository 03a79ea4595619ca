/**
 * The page's live router over real stream messages, its chart and panels recorded as it calls
 * them: an event's finding and its marker come from one decoding of the message, and an event
 * whose body does not decode as its kind declares is counted, not shown.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { LiveRouter, type LiveTargets } from "../../../collab/web/browser/live_router.ts";
import type { Finding } from "../../../collab/findings/mod.ts";
import { encodeEventEnvelope, registerKindFindings } from "../../../protocol/mod.ts";
import { anomalyFinding } from "../../_support/findings.ts";

const test = suite("live_router");

/** A router whose targets record what they are given. */
function recorded() {
  const markers: Array<[string, number, number, string]> = [];
  const rows: Finding[] = [];
  const chart = (key: string) => ({
    addAnomaly: (ts: number, value: number, label: string) => markers.push([key, ts, value, label]),
  });
  const targets = {
    grid: { chart },
    events: { add: (f: Finding) => rows.push(f) },
    coherence: {},
  } as unknown as LiveTargets;
  return { router: new LiveRouter(targets), markers, rows };
}

test("route() gives an anomaly event's marker and its row of the event list, both from its one body", () => {
  const { router, markers, rows } = recorded();
  const ts = 1_790_000_000_000_000;
  router.route("troupe.out.anomaly.BTC", anomalyFinding("BTC", ts));
  assert.equal(markers, [["BTC", ts, 80, "score 0.950"]]);
  assert.is(rows.length, 1);
  assert.is(rows[0]!.kind, "anomaly");
  assert.is(rows[0]!.channel, "BTC");
  assert.is(rows[0]!.ts_us, ts);
  assert.is(rows[0]!.detail.value, 80);
  assert.is(router.undecodable, 0);
});

test("route() counts a declared kind's event whose body does not decode as undecodable, naming the field, and shows no row", () => {
  registerKindFindings("router_pair", [{
    type: "router_gap",
    measure: "gap",
    edges: [1, 2, 3, 4],
    unit: "",
    channelField: "pair",
  }]);
  const { router, rows } = recorded();
  const body = (gap: unknown) => ({ type: "router_gap", ts: 5, pair: "A-B", gap });
  router.route("troupe.out.router_pair.A-B", encodeEventEnvelope(meta(1), body(2.5)));
  assert.is(rows.length, 1, "a good one is shown");
  assert.is(rows[0]!.kind, "router_gap");
  router.route("troupe.out.router_pair.A-B", encodeEventEnvelope(meta(2), body("wide")));
  assert.is(rows.length, 1, "the bad one is not");
  assert.is(router.undecodable, 1);
  assert.match(router.lastError, /^troupe\.out\.router_pair\.A-B: .*gap/);
});

function meta(n: number) {
  return { id: `e${n}`, type: "router_gap", src: "router_pair/A-B", ts: 5 };
}

test.run();
