/**
 * A refused write on the writer's page, in headless Chromium on pages served by a real collab
 * server: an editor's page that writes what the session schema refuses (`workflow.garbage = 42`,
 * made straight on its Yjs document, as a console or a bug would) and a viewer's page that writes
 * at all each see the change disappear (the page rebuilds its document from the server's state)
 * and a notice that says why; both go on working. Every panel tells a viewer it is read-only, and
 * every control a viewer can use writes nothing shared.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Page } from "playwright-core";
import { launchCollab, type LaunchedCollab, type SessionDoc } from "../../collab/mod.ts";
import { haveBrowser, launchBrowser } from "../_support/browser.ts";
import { tempDir } from "../_support/nats.ts";
import { tokenFor, waitFor } from "./_support.ts";

const NAME = "dashboard: a refused write rolled back in the browser";
const run = haveBrowser(NAME);
const test = suite(NAME);
const SESSION = "ops";

/** What the page exposes as `globalThis.troupe` (read inside `page.evaluate`). */
interface PageTroupe {
  troupe: { link: { sdoc: SessionDoc; doc: SessionDoc["doc"] } };
}

interface World {
  dir: ReturnType<typeof tempDir>;
  collab: LaunchedCollab;
  browser: Awaited<ReturnType<typeof launchBrowser>>;
  errors: string[];
}
let w: World;

async function openPage(role: "editor" | "viewer", name: string): Promise<Page> {
  const token = await tokenFor(w.dir.path, SESSION, role);
  const page = await w.browser.newPage();
  page.on("pageerror", (e) => w.errors.push(`${name}: ${e.message}`));
  await page.goto(
    `http://127.0.0.1:${w.collab.server.port}/?session=${SESSION}&token=${token}&name=${name}`,
  );
  await page.waitForSelector("#collab-status.up", { timeout: 15_000 });
  return page;
}

/** The checklist steps a page shows: their ids and texts. */
function shownSteps(page: Page): Promise<Array<[string | null, string]>> {
  return page.$$eval(
    "#checklist li.step",
    (ls) =>
      ls.map((l) => [l.getAttribute("data-id"), l.textContent ?? ""] as [string | null, string]),
  );
}

async function addStep(page: Page, title: string): Promise<void> {
  await page.fill("#checklist input[name=step]", title);
  await page.click("#checklist button[name=add-step]");
}

test.before(async () => {
  const dir = tempDir("troupe-dash-refused-");
  const collab = await launchCollab({ dataDir: dir.path });
  w = { dir, collab, browser: await launchBrowser(), errors: [] };
});

test.after(async () => {
  await w.browser.cleanup();
  await w.collab.close();
  w.dir.remove();
});

test("an editor's write that does not fit the schema disappears from its page with a notice naming the field and value; its page goes on editing", async () => {
  const ana = await openPage("editor", "ana");
  const bo = await openPage("editor", "bo");
  await addStep(ana, "check the feed");
  await bo.waitForSelector('#checklist li.step:has-text("check the feed")', { timeout: 5000 });
  await ana.evaluate(() =>
    (globalThis as unknown as PageTroupe).troupe.link.doc.getMap("workflow").set("garbage", 42)
  );
  const notice = await ana.waitForSelector("#refused-notice", { timeout: 5000 });
  const text = await notice.textContent() ?? "";
  assert.match(text, '"workflow.garbage"');
  assert.match(text, "got 42");
  await ana.waitForFunction(
    () => !(globalThis as unknown as PageTroupe).troupe.link.sdoc.workflow.has("garbage"),
    null,
    { timeout: 5000 },
  );
  await ana.waitForSelector("#collab-status.up", { timeout: 10_000 });
  await ana.waitForFunction(
    () => document.querySelectorAll("#checklist li.step").length === 1,
    null,
    { timeout: 5000 },
  );
  assert.equal((await shownSteps(ana)).map(([, t]) => t.includes("check the feed")), [true]);
  // The page edits on, on its new document, and the others see it.
  await addStep(ana, "after the refusal");
  await bo.waitForSelector('#checklist li.step:has-text("after the refusal")', { timeout: 5000 });
  await waitFor(
    () => w.collab.server.room(SESSION)!.sdoc.steps().length === 2,
    5000,
    "the server to hold both steps",
  );
  assert.not.ok(w.collab.server.room(SESSION)!.sdoc.workflow.has("garbage"));
  assert.ok((await shownSteps(bo)).every(([, t]) => !t.includes("undefined")));
  await ana.click("#refused-notice button[name=dismiss]");
  assert.is(await ana.$("#refused-notice"), null);
  await ana.close();
  await bo.close();
});

test("a viewer's write disappears from its page with a notice; the page goes on receiving", async () => {
  const ana = await openPage("editor", "ana");
  const vic = await openPage("viewer", "vic");
  await vic.evaluate(() => {
    (globalThis as unknown as PageTroupe).troupe.link.sdoc.setStep({
      id: "forged",
      title: "forged by a viewer",
      status: "done",
      assignee: "vic",
      due: 0,
    });
  });
  const notice = await vic.waitForSelector("#refused-notice", { timeout: 5000 });
  assert.match(await notice.textContent() ?? "", "A viewer may not write to this session");
  await vic.waitForFunction(
    () => !document.querySelector('#checklist li.step[data-id="forged"]'),
    null,
    { timeout: 5000 },
  );
  assert.not.ok(
    await vic.evaluate(() =>
      (globalThis as unknown as PageTroupe).troupe.link.sdoc.workflow.has("forged")
    ),
  );
  await addStep(ana, "seen by the viewer");
  await vic.waitForSelector('#checklist li.step:has-text("seen by the viewer")', {
    timeout: 10_000,
  });
  assert.not.ok(w.collab.server.room(SESSION)!.sdoc.workflow.has("forged"));
  await ana.close();
  await vic.close();
});

test("every panel says read-only to a viewer, and every control a viewer can use writes nothing shared", async () => {
  // A chart panel in the session, so that the viewer's page has a card with its layout buttons.
  w.collab.server.room(SESSION)!.sdoc.setPanel({
    id: "chart-SYM001",
    kind: "chart",
    channels: ["SYM001"],
    title: "SYM001",
    layout: { x: 0, y: 0, w: 1, h: 1 },
  });
  const vic = await openPage("viewer", "vic");
  await vic.waitForSelector(".card[data-channel=SYM001] button[name=earlier]", { timeout: 5000 });
  const panels = await vic.$$eval(
    "section",
    (ss) => ss.map((s) => [s.id, s.querySelector(".readonly-note")?.textContent ?? ""]),
  );
  assert.ok(panels.length >= 6, `${panels.length} panels`);
  for (const [id, note] of panels) assert.match(note!, /^read-only/, `#${id} says read-only`);
  assert.match(await vic.textContent("#layout .readonly-note") ?? "", /^read-only/);
  // What a viewer may still use: the scan form (a scan writes nothing shared), the events'
  // filters, the time range, a card's "live" (follow the live edge) and "retry" (read a failed
  // history range again), "just my view" (this browser's own layout) and the channel filter (which
  // cards this page shows), all of this page alone.
  const enabled = await vic.$$eval(
    "input:not([disabled]), select:not([disabled]), button:not([disabled]), textarea:not([disabled])",
    (cs) =>
      cs.map((c) => {
        const box = c.closest("section, #range, #layout, .card");
        const where = box?.classList.contains("card") ? "card" : box?.id ?? "";
        return `${where}/${c.getAttribute("name") ?? (c.id || c.className)}`;
      }),
  );
  const local =
    /^(scan\/(criteria|rank|bar|universe|start-scan)|events\/event-(kind|severity)|range\/.*|layout\/just-my-view|card\/(live|pan|retry)|\/channel-filter)$/;
  for (const c of enabled) assert.match(c, local, `a viewer can use ${c}`);
  assert.ok(enabled.includes("scan/start-scan"), "a viewer may start a scan");
  for (const b of ["earlier", "later", "remove"]) {
    assert.ok(await vic.isDisabled(`.card[data-channel=SYM001] button[name=${b}]`), b);
  }
  await vic.close();
});

test("no page error on any page", () => {
  assert.equal(w.errors, []);
});

if (run) test.run();
