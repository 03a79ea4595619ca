/**
 * The incidents panel in real Chromium, against a real nats-server, incident stage and collab
 * server: the stage's incidents are listed with their members, state and severity; an incident's
 * silence button fills the silence form from it, bad matchers, durations and reasons are refused
 * naming the field and value, and the silence one editor adds holds in another editor's view at
 * once, and the stage marks the incident's next update silenced; an ack (its note asked for)
 * shows in the other view; a viewer sees the form read-only, no button it can press and
 * "read-only", and a silence a viewer's page writes anyway never reaches anyone. With Debian's
 * Alertmanager here, the alert sender runs beside the stage: the incident reaches Alertmanager as
 * an alert, and the silence set in the browser ends it there.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type * as Y from "yjs";
import { parseAlertingConfig, runAlerting } from "../../actors/alerting/mod.ts";
import { defaultIncidentConfig, runIncidentStage } from "../../actors/incidents/mod.ts";
import { NatsBus } from "../../actors/runtime/mod.ts";
import { launchCollab } from "../../collab/mod.ts";
import { encodeEventEnvelope, findingSubject } from "../../protocol/mod.ts";
import { haveBrowser, launchBrowser } from "../_support/browser.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import {
  haveAlertmanager,
  TestAlertmanager,
  until,
  WebhookReceiver,
} from "../_support/alertmanager.ts";
import { tokenFor, waitFor } from "./_support.ts";

const NAME = "dashboard incidents panel in the browser";
const run = haveBrowser(NAME) && haveNatsServer(NAME);
const test = suite(NAME);
const S = 1_000_000;
const withAlertmanager = run && haveAlertmanager(`${NAME}: alerts`);

interface PageTroupe {
  troupe: { link: { doc: Y.Doc } };
}

test("a silence one editor sets holds in another's view and at the stage; an ack shows; a viewer has no buttons and its silence is refused", async () => {
  const nats = await startTestNats();
  const dir = tempDir("troupe-dash-incidents-");
  const bus = await NatsBus.connect(nats.url);
  const stage = runIncidentStage(bus, { config: defaultIncidentConfig });
  const collab = await launchCollab({ dataDir: dir.path, nats: nats.url });
  const browser = await launchBrowser({ width: 1600, height: 1000 });
  const hook = withAlertmanager ? await new WebhookReceiver().listen() : undefined;
  const am = hook ? await TestAlertmanager.start(hook.url) : undefined;
  const alerting = am
    ? await runAlerting(bus, {
      config: parseAlertingConfig({
        alertmanagers: [am.url],
        resend_ms: 500,
        paging: { budget: false, page_kinds: ["collapse", "coherence"] },
      }),
      stage: stage.stage,
      log: () => {},
    })
    : undefined;
  try {
    let n = 0;
    const finding = (channel: string, ts: number) =>
      bus.publish(
        findingSubject("anomaly", channel),
        encodeEventEnvelope(
          { id: `in${n++}:anomaly:${channel}:0`, type: "anomaly", src: "h", ts },
          { channel, score: 0.99, value: 1, expected: 0, lower: -1, upper: 1 },
        ),
      );
    const open = async (role: "editor" | "viewer", name: string) => {
      const page = await browser.newPage();
      const token = await tokenFor(dir.path, "main", role);
      await page.goto(
        `http://127.0.0.1:${collab.server.port}/?session=main&token=${token}&name=${name}`,
      );
      await page.waitForSelector("#collab-status.up", { timeout: 15_000 });
      await page.waitForSelector("body[data-stream-subscribed]", { timeout: 15_000 });
      return page;
    };
    const ana = await open("editor", "ana");
    const bo = await open("editor", "bo");
    const vic = await open("viewer", "vic");
    const t0 = Date.now() * 1000;

    // A crash over two channels: one incident with 2 members, firing.
    finding("SYM1", t0 - 10 * S);
    finding("SYM2", t0 - 9 * S);
    finding("SYM1", t0 - 6 * S);
    await bus.flush();
    const row = "#incidents li.incident";
    for (const page of [ana, bo, vic]) await page.waitForSelector(row, { timeout: 20_000 });
    await ana.waitForSelector(`${row}[data-state="firing"]`, { timeout: 20_000 });
    const text = (await ana.textContent(row)) ?? "";
    assert.match(text, /firing +anomaly +2 channels: SYM1, SYM2 {2}\[severity 5, \d+ findings\]/);
    const id = stage.stage.list()[0]!.id;
    assert.is(await ana.getAttribute(row, "data-id"), id);
    if (am) {
      await until(async () => (await am.alerts()).length === 1, 20_000, "the alert");
      assert.is((await am.alerts())[0]!.annotations.incident_id, id);
    }
    // The line as troupe watch prints it, id and all (finding_line_browser checks it equal), shown
    // whole (not cut: its marks at the end are what an ack or a silence changes), and in the
    // row's title.
    assert.match(text, id);
    assert.match((await ana.getAttribute(row, "title")) ?? "", id);
    const cut = await ana.$eval(`${row} .line`, (e) => e.scrollHeight > e.clientHeight + 1);
    assert.is(cut, false, "the line is shown whole");

    // The viewer: no button it can press, the silence form read-only, and it says why.
    assert.is(await vic.locator("#incidents button:enabled").count(), 0);
    assert.is(await vic.locator("#incidents form.silence-form input:disabled").count(), 3);
    assert.is(await vic.locator("#incidents form.silence-form input:enabled").count(), 0);
    assert.match((await vic.textContent("#incidents .readonly-note")) ?? "", "read-only");

    // Ana's silence button fills the form's matchers from the incident (its kind, a glob of its
    // members' channels); the duration starts at 2h, the reason is hers to give.
    const form = "#incidents form.silence-form";
    await ana.click(`${row} button.silence`);
    assert.is(await ana.inputValue(`${form} input[name=matchers]`), "kind=anomaly channel=~SYM*");
    assert.is(await ana.inputValue(`${form} input[name=duration]`), "2h");
    // Bad input is refused naming the field and the value, and nothing is written.
    const refused = async (field: string, value: string, text: string) => {
      await ana.fill(`${form} input[name=${field}]`, value);
      await ana.click(`${form} button[name=add-silence]`);
      await ana.waitForSelector(`${form} .error[data-field=${field}]`, { timeout: 5_000 });
      const error = (await ana.textContent(`${form} .error`)) ?? "";
      assert.match(error, `field "${field}"`);
      assert.match(error, text);
      assert.is(await ana.getAttribute(`${form} input[name=${field}]`, "aria-invalid"), "true");
    };
    await refused("matchers", "kind=anomaly chanel=SYM1", '"chanel=SYM1"');
    await ana.fill(`${form} input[name=matchers]`, "kind=anomaly channel=~SYM?");
    await refused("reason", " ", 'got " "');
    await ana.fill(`${form} input[name=reason]`, "exchange maintenance");
    await refused("duration", "-5m", '"-5m"');
    await refused("duration", "31d", '"31d"');
    await ana.fill(`${form} input[name=duration]`, "90m");
    const silences = () =>
      ana.evaluate(() =>
        [
          ...(globalThis as unknown as PageTroupe).troupe.link.doc.getMap("silences").values(),
        ] as Array<{ matchers: string; starts_ms: number; ends_ms: number; reason: string }>
      );
    assert.is((await silences()).length, 0);

    // Ana adds it; Bo's view shows the incident silenced at once, and the silence listed.
    await ana.click(`${form} button[name=add-silence]`);
    await bo.waitForSelector(`${row}[data-silenced="1"]`, { timeout: 20_000 });
    const listed = (await bo.textContent("#incidents .silence-list li")) ?? "";
    assert.match(listed, "kind=anomaly channel=~SYM?");
    assert.match(listed, "by ana: exchange maintenance");
    const [written] = await silences();
    assert.is(written!.ends_ms - written!.starts_ms, 90 * 60_000);
    assert.is(await ana.textContent(`${form} .error`), "");
    await bo.waitForSelector("#incidents .silence-list li.ok", { timeout: 20_000 });
    // The stage marks the incident's next update silenced (its watermark past the silence's time).
    // (Its findings are stamped from now: the silence is in force from when the bridge sent it.)
    const t1 = Date.now() * 1000;
    finding("SYM1", t1 + 3 * S);
    finding("SYM2", t1 + 5 * S);
    await bus.flush();
    await waitFor(() => stage.stage.list().some((i) => i.id === id && i.silenced), 20_000, "stage");
    // The silence set in the browser ends the alert at Alertmanager (the incident still fires).
    if (am) await until(async () => (await am.alerts()).length === 0, 20_000, "the alert to end");

    // Bo acknowledges (the note asked for left empty); Ana sees it.
    await bo.click(`${row} button.ack`);
    await bo.click(`${row} button.ack-confirm`);
    await ana.waitForSelector(`${row}[data-acked="1"]`, { timeout: 20_000 });
    assert.match((await ana.textContent(row)) ?? "", "acked by bo");

    // A viewer's page that writes a silence anyway: the server drops it, no one sees it.
    await vic.evaluate(() => {
      const doc = (globalThis as unknown as PageTroupe).troupe.link.doc;
      doc.getMap("silences").set("v1", {
        id: "v1",
        matchers: "kind=collapse",
        starts_ms: Date.now(),
        ends_ms: Date.now() + 60_000,
        by: "vic",
        reason: "r",
      });
    });
    await new Promise((r) => setTimeout(r, 500));
    const seen = await ana.evaluate(
      () => [...(globalThis as unknown as PageTroupe).troupe.link.doc.getMap("silences").keys()],
    );
    assert.is(seen.length, 1);
    assert.is.not(seen[0], "v1");
  } finally {
    await browser.cleanup();
    await alerting?.stop();
    await am?.cleanup();
    await hook?.close();
    stage.stop();
    await collab.close();
    await bus.close();
    await nats.stop();
    dir.remove();
  }
});

if (run) test.run();
