/**
 * The dashboard's silence form, its pure part: matchers prefilled from an incident hold for it,
 * and bad input is refused naming the form's field and the value (the form itself runs in real
 * Chromium in dashboard_incidents_browser.test.ts).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  checkSilenceForm,
  incidentMatchers,
  SilenceFormError,
} from "../../../collab/web/browser/panels/silence_form.ts";
import { type Incident, parseSilenceMatchers, silenceMatches } from "../../../protocol/mod.ts";

const test = suite("silence form");

function incident(kind: Incident["kind"], channels: string[]): Incident {
  return {
    id: `${kind}-1-${channels[0]}`,
    kind,
    state: "firing",
    fired: true,
    silenced: false,
    members: channels.map((channel) => ({
      channel,
      first_us: 1,
      last_us: 1,
      findings: 1,
      peak_severity: 3,
    })),
    first_us: 1,
    last_us: 1,
    first_finding: "f",
    last_finding: "f",
    findings: channels.length,
    peak_severity: 3,
    links: [],
  };
}

test("incidentMatchers() gives the incident's kind and its channel, or a glob of its members' common prefix", () => {
  const cases: Array<[Incident, string]> = [
    [incident("anomaly", ["SYM1"]), "kind=anomaly channel=SYM1"],
    [incident("collapse", ["SYM001", "SYM002", "SYM010"]), "kind=collapse channel=~SYM0*"],
    [incident("anomaly", ["cpu-1", "SYM2"]), "kind=anomaly"],
  ];
  for (const [i, text] of cases) {
    assert.is(incidentMatchers(i), text);
    const silence = { id: "s", matchers: parseSilenceMatchers(text), starts_us: 0, ends_us: 9 };
    assert.ok(silenceMatches(silence, i), text);
  }
});

test("checkSilenceForm() gives canonical matchers, the duration in ms and the reason", () => {
  assert.equal(
    checkSilenceForm({
      matchers: "  kind=anomaly   channel=~SYM* ",
      duration: "90m",
      reason: " r ",
    }),
    { matchers: "kind=anomaly channel=~SYM*", duration_ms: 90 * 60_000, reason: "r" },
  );
});

test("checkSilenceForm() refuses a bad matcher, duration or reason naming the field and value", () => {
  const ok = { matchers: "kind=anomaly", duration: "2h", reason: "r" };
  const cases: Array<[Partial<typeof ok>, string, string]> = [
    [{ matchers: "chanel=SYM1" }, "matchers", '"chanel=SYM1"'],
    [{ matchers: "kind=alarm" }, "matchers", '"kind=alarm"'],
    [{ matchers: "" }, "matchers", 'got ""'],
    [{ duration: "-5m" }, "duration", '"-5m"'],
    [{ duration: "soon" }, "duration", '"soon"'],
    [{ duration: "31d" }, "duration", 'at most 30d, got "31d"'],
    [{ reason: "  " }, "reason", 'got "  "'],
  ];
  for (const [change, field, value] of cases) {
    try {
      checkSilenceForm({ ...ok, ...change });
      assert.unreachable(`${JSON.stringify(change)} accepted`);
    } catch (err) {
      assert.instance(err, SilenceFormError, String(err));
      assert.is((err as SilenceFormError).field, field);
      assert.match((err as Error).message, `field "${field}"`);
      assert.match((err as Error).message, value);
    }
  }
});

test.run();
