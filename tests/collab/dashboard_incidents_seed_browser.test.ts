/**
 * The incidents panel of a fresh page in real Chromium, when the collab server started after the
 * incident opened (a restart, a `troupe collab` joined to a running cluster): the stream
 * gateway's buffer holds none of its updates, and the panel lists it all the same, from the
 * server's incident log seeded from the stage's list (`GET /incidents`); an incident opened after
 * the page loaded comes in on the stream beside it. A page open while the collab server restarts
 * fetches the list again when its stream reconnects: the new gateway's buffer holds none of what
 * changed while it was down.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { defaultIncidentConfig, runIncidentStage } from "../../actors/incidents/mod.ts";
import { NatsBus } from "../../actors/runtime/mod.ts";
import { launchCollab } from "../../collab/mod.ts";
import { findingSubject } from "../../protocol/mod.ts";
import { anomalyFinding } from "../_support/findings.ts";
import { haveBrowser, launchBrowser } from "../_support/browser.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { tokenFor, waitFor } from "./_support.ts";

const NAME = "dashboard incidents from before the collab server";
const run = haveBrowser(NAME) && haveNatsServer(NAME);
const test = suite(NAME);
const S = 1_000_000;

/** Publishes an anomaly finding on `channel` at `ts` as a host does. */
function publishFinding(bus: NatsBus, channel: string, ts: number): void {
  bus.publish(findingSubject("anomaly", channel), anomalyFinding(channel, ts));
}

const row = (id: string) => `#incidents li.incident[data-id="${id}"]`;

test("a fresh page lists the incident the stage held before the collab server started", async () => {
  const nats = await startTestNats();
  const dir = tempDir("troupe-dash-incident-seed-");
  const bus = await NatsBus.connect(nats.url);
  const stage = runIncidentStage(bus, { config: defaultIncidentConfig });
  let collab: Awaited<ReturnType<typeof launchCollab>> | undefined;
  const browser = await launchBrowser({ width: 1400, height: 900 });
  try {
    // A crash over two channels, taken by the stage (the third finding passes its reorder bound).
    const t0 = Date.now() * 1000 - 100 * S;
    publishFinding(bus, "SYM1", t0);
    publishFinding(bus, "SYM2", t0 + S);
    publishFinding(bus, "SYM1", t0 + 4 * S);
    await bus.flush();
    await waitFor(() => stage.stage.list().length === 1, 5_000, "the stage's incident");
    const before = stage.stage.list()[0]!;

    collab = await launchCollab({ dataDir: dir.path, nats: nats.url });
    const page = await browser.newPage();
    const token = await tokenFor(dir.path, "main", "viewer");
    await page.goto(`http://127.0.0.1:${collab.server.port}/?session=main&token=${token}`);
    await page.waitForSelector("body[data-stream-subscribed]", { timeout: 15_000 });
    await page.waitForSelector(row(before.id), { timeout: 10_000 });
    assert.is(await page.getAttribute(row(before.id), "data-state"), before.state);
    assert.match((await page.textContent(row(before.id))) ?? "", "2 channels: SYM1, SYM2");

    // An incident opened now (past the first's grouping window) comes in on the stream, on top.
    const t1 = Date.now() * 1000 - 5 * S;
    publishFinding(bus, "SYM3", t1);
    publishFinding(bus, "SYM3", t1 + 3 * S);
    await bus.flush();
    await waitFor(() => stage.stage.list().length === 2, 5_000, "the second incident");
    const after = stage.stage.list().find((i) => i.id !== before.id)!;
    await page.waitForSelector(row(after.id), { timeout: 10_000 });
    const ids = await page.$$eval("#incidents li.incident", (li) => li.map((e) => e.dataset.id));
    assert.equal(ids, [after.id, before.id]);
  } finally {
    await browser.cleanup();
    await collab?.close();
    stage.stop();
    await bus.close();
    await nats.stop();
    dir.remove();
  }
});

test("a page open while the collab server restarts lists what opened while it was down", async () => {
  const nats = await startTestNats();
  const dir = tempDir("troupe-dash-incident-reopen-");
  const bus = await NatsBus.connect(nats.url);
  const stage = runIncidentStage(bus, { config: defaultIncidentConfig });
  let collab = await launchCollab({ dataDir: dir.path, nats: nats.url });
  const browser = await launchBrowser({ width: 1400, height: 900 });
  try {
    const port = collab.server.port;
    const page = await browser.newPage();
    const token = await tokenFor(dir.path, "main", "viewer");
    await page.goto(`http://127.0.0.1:${port}/?session=main&token=${token}`);
    await page.waitForSelector("body[data-stream-subscribed]", { timeout: 15_000 });
    await collab.close();
    await page.waitForFunction(
      () => !document.querySelector("#stream-status")?.textContent?.startsWith("live"),
      undefined,
      { timeout: 10_000 },
    );
    // While the server is down, an incident opens; the stage holds it, no gateway buffered it.
    const t0 = Date.now() * 1000 - 10 * S;
    publishFinding(bus, "SYM1", t0);
    publishFinding(bus, "SYM1", t0 + 3 * S);
    await bus.flush();
    await waitFor(() => stage.stage.list().length === 1, 5_000, "the stage's incident");
    const opened = stage.stage.list()[0]!;
    collab = await launchCollab({ dataDir: dir.path, nats: nats.url, port });
    await page.waitForSelector(row(opened.id), { timeout: 15_000 });
    assert.match((await page.textContent(row(opened.id))) ?? "", "SYM1");
  } finally {
    await browser.cleanup();
    await collab.close();
    stage.stop();
    await bus.close();
    await nats.stop();
    dir.remove();
  }
});

if (run) test.run();
