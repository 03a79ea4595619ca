/**
 * The incidents panel in real Chromium, against a real nats-server, incident stage and collab
 * server: the stage's incidents are listed with their members, state and severity; a silence one
 * editor adds with the panel's button holds in another editor's view at once, and the stage marks
 * the incident's next update silenced; an ack shows in the other view; a viewer sees no buttons and
 * "read-only", and a silence a viewer's page writes anyway never reaches anyone.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type * as Y from "yjs";
import { defaultIncidentConfig, runIncidentStage } from "../../actors/incidents/mod.ts";
import { NatsBus } from "../../actors/runtime/mod.ts";
import { launchCollab } from "../../collab/mod.ts";
import { encodeEventEnvelope, outSubject } from "../../protocol/mod.ts";
import { haveBrowser, launchBrowser } from "../_support/browser.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { tokenFor, waitFor } from "./_support.ts";

const NAME = "dashboard incidents panel in the browser";
const run = haveBrowser(NAME) && haveNatsServer(NAME);
const test = suite(NAME);
const S = 1_000_000;

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
  try {
    const t0 = Date.now() * 1000;
    let n = 0;
    const finding = (channel: string, ts: number) =>
      bus.publish(
        outSubject("anomaly", channel),
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

    // The viewer: no buttons, and says why.
    assert.is(await vic.locator("#incidents button").count(), 0);
    assert.match((await vic.textContent("#incidents .readonly-note")) ?? "", "read-only");

    // Ana silences it; Bo's view shows it silenced at once, and the silence listed.
    await ana.click(`${row} button.silence`);
    await bo.waitForSelector(`${row}[data-silenced="1"]`, { timeout: 20_000 });
    assert.match((await bo.textContent("#incidents .silence-list li")) ?? "", "kind=anomaly");
    assert.match((await bo.textContent("#incidents .silence-list li")) ?? "", "by ana");
    await bo.waitForSelector("#incidents .silence-list li.ok", { timeout: 20_000 });
    // The stage marks the incident's next update silenced (its watermark past the silence's time).
    finding("SYM1", t0 + 15 * S);
    finding("SYM2", t0 + 17 * S);
    await bus.flush();
    await waitFor(() => stage.stage.list().some((i) => i.id === id && i.silenced), 20_000, "stage");

    // Bo acknowledges; Ana sees it.
    await bo.click(`${row} button.ack`);
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
    stage.stop();
    await collab.close();
    await bus.close();
    await nats.stop();
    dir.remove();
  }
});

if (run) test.run();
