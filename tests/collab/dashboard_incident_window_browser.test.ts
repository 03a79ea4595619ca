/**
 * The window an incident opens its card at, in real Chromium against a real nats-server holding
 * the channel's feed: a firing incident has no end yet, so its card shows from before its first
 * finding up to now, not a minute past its last finding (on the code before, the s36 screenshot:
 * ~55 s of the window in the future, a quarter of the chart empty); a resolved one shows its span
 * with its margin each side, as before.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ensureFeedStream, NatsBus } from "../../actors/runtime/mod.ts";
import { launchCollab } from "../../collab/mod.ts";
import {
  encodeFrame,
  encodeIncident,
  feedSubject,
  type IncidentState,
  incidentSubject,
} from "../../protocol/mod.ts";
import { haveBrowser, launchBrowser } from "../_support/browser.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { tokenFor } from "./_support.ts";

const NAME = "dashboard incident window in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);
const S = 1_000_000;
const SPAN_S = 300;

/** The stage's update of an anomaly incident of CH over [first, last] (µs). */
function incident(id: string, state: IncidentState, first: number, last: number): Uint8Array {
  const member = { channel: "CH", first_us: first, last_us: last, findings: 3, peak_severity: 4 };
  return encodeIncident({ id: `${id}:2`, src: "test", ts: last }, {
    id,
    kind: "anomaly",
    state,
    fired: true,
    silenced: false,
    members: [member],
    first_us: first,
    last_us: last,
    first_finding: "f-1",
    last_finding: "f-3",
    findings: 3,
    peak_severity: 4,
    links: [],
  });
}

interface PageTroupe {
  troupe: { grid: { chart(c: string): { source: string; xRange(): Range } | undefined } };
}
interface Range {
  min: number;
  max: number;
}

test("a firing incident opens up to now, a resolved one over its span and a minute each side", async () => {
  const nats = await startTestNats();
  const dir = tempDir("troupe-dash-incident-window-");
  const pub = await NatsBus.connect(nats.url, { name: "dash-incident-window" });
  await ensureFeedStream(pub.nc);
  const t0 = (Math.floor(Date.now() / 1000) - SPAN_S) * S;
  const t = new Float64Array(SPAN_S).map((_, i) => t0 + i * S);
  const v = new Float64Array(SPAN_S).map((_, i) => 100 + (i % 13));
  pub.publish(
    feedSubject("m", "CH"),
    encodeFrame({ channel: "CH", seq0: 0, t, v }, { id: "ch-0", src: "test" }),
  );
  await pub.flush();
  const collab = await launchCollab({ dataDir: dir.path, nats: nats.url, bridge: false });
  const browser = await launchBrowser({ width: 1600, height: 1000 });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const token = await tokenFor(dir.path, "ops", "viewer");
    await page.goto(
      `http://127.0.0.1:${collab.server.port}/?session=ops&token=${token}&backfill=0`,
    );
    await page.waitForSelector("body[data-stream-subscribed]", { timeout: 20_000 });
    const now = Date.now() * 1000;
    const firing = { id: `anomaly-${now - 40 * S}-CH`, first: now - 40 * S, last: now - 10 * S };
    const resolved = { id: `anomaly-${t0 + 20 * S}-CH`, first: t0 + 20 * S, last: t0 + 50 * S };
    pub.publish(
      incidentSubject("anomaly"),
      incident(firing.id, "firing", firing.first, firing.last),
    );
    pub.publish(
      incidentSubject("anomaly"),
      incident(resolved.id, "resolved", resolved.first, resolved.last),
    );
    await pub.flush();
    const open = async (id: string) => {
      const row = page.locator(`#incidents li[data-id="${id}"]`);
      await row.waitFor({ timeout: 20_000 });
      const before = Date.now() / 1000;
      await row.click();
      const after = Date.now() / 1000;
      const x = await page.evaluate(() =>
        (globalThis as unknown as PageTroupe).troupe.grid.chart("CH")!.xRange()
      );
      return { x, before, after };
    };

    // Firing: from before its first finding to the moment it was opened, no later.
    const f = await open(firing.id);
    assert.ok(f.x.min < firing.first / S, `${JSON.stringify(f.x)} starts before the incident`);
    assert.ok(
      f.x.max >= f.before - 1e-3 && f.x.max <= f.after + 1e-3,
      `the window ends at now (${f.before}..${f.after}), not in the future: ${JSON.stringify(f.x)}`,
    );
    // Resolved: its span, a minute each side (its 30 s span is under two minutes).
    const r = await open(resolved.id);
    assert.equal(r.x, { min: resolved.first / S - 60, max: resolved.last / S + 60 });
    assert.equal(errors, []);
  } finally {
    await browser.cleanup();
    await pub.close();
    await collab.close();
    await nats.cleanup();
    dir.remove();
  }
});

if (run) test.run();
