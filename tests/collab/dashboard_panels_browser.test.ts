/**
 * The session document's dashboard panels lay out the dashboard's charts, in headless Chromium on
 * pages served by a real collab server: an editor writes chart panels through the page's own
 * SessionDoc (the real Yjs path), and a viewer's page creates the cards the panels name, titles
 * them, and places them by the panels' layout (read from where the browser actually drew them);
 * moving a panel moves its cards live, and a reload keeps the layout.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Page } from "playwright-core";
import { launchCollab, type Panel, type SessionDoc } from "../../collab/mod.ts";
import { haveBrowser, launchBrowser } from "../_support/browser.ts";
import { tempDir } from "../_support/nats.ts";
import { tokenFor } from "./_support.ts";

const NAME = "dashboard panels in the browser";
const run = haveBrowser(NAME);
const test = suite(NAME);

interface PageTroupe {
  troupe: { link: { sdoc: SessionDoc } };
}

/** The cards as drawn: channel, title and width, in reading order (top, then left). */
async function cards(
  page: Page,
): Promise<Array<{ channel: string; title: string; wide: boolean }>> {
  return await page.$$eval(".card[data-channel]", (list) =>
    list.map((c) => {
      const r = c.getBoundingClientRect();
      return {
        top: Math.round(r.top),
        left: Math.round(r.left),
        width: r.width,
        channel: (c as HTMLElement).dataset.channel!,
        title: c.querySelector("h3 .title")?.textContent ?? "",
      };
    }).sort((a, b) => a.top - b.top || a.left - b.left).map((c, _i, all) => ({
      channel: c.channel,
      title: c.title,
      wide: c.width > 1.5 * Math.min(...all.map((x) => x.width)),
    })));
}

async function setPanels(page: Page, panels: Panel[]): Promise<void> {
  await page.evaluate((ps) => {
    const sdoc = (globalThis as unknown as PageTroupe).troupe.link.sdoc;
    for (const p of ps) sdoc.setPanel(p);
  }, panels);
}

test("chart panels title, order and size the cards on every page, live and after a reload", async () => {
  const dir = tempDir("troupe-dash-panels-");
  const collab = await launchCollab({ dataDir: dir.path });
  const browser = await launchBrowser({ width: 1600, height: 1000 });
  try {
    const base = `http://127.0.0.1:${collab.server.port}`;
    const open = async (role: "editor" | "viewer", name: string) => {
      const page = await browser.newPage();
      const token = await tokenFor(dir.path, "ops", role);
      await page.goto(`${base}/?session=ops&token=${token}&name=${name}`);
      await page.waitForSelector("#collab-status.up", { timeout: 15_000 });
      return page;
    };
    const editor = await open("editor", "ed");
    const viewer = await open("viewer", "vi");
    await setPanels(editor, [
      {
        id: "p1",
        kind: "chart",
        channels: ["AAA", "CCC"],
        title: "Rates",
        layout: { x: 0, y: 0, w: 2, h: 1 },
      },
      {
        id: "p2",
        kind: "chart",
        channels: ["BBB"],
        title: "Latency",
        layout: { x: 0, y: 1, w: 1, h: 1 },
      },
      {
        id: "p3",
        kind: "gauge",
        channels: ["ZZZ"],
        title: "not a chart",
        layout: { x: 0, y: 2, w: 1, h: 1 },
      },
    ]);
    await viewer.waitForFunction(
      () => document.querySelectorAll(".card[data-channel]").length === 3,
      null,
      {
        timeout: 10_000,
      },
    );
    assert.equal(await cards(viewer), [
      { channel: "AAA", title: "Rates · AAA", wide: true },
      { channel: "CCC", title: "Rates · CCC", wide: true },
      { channel: "BBB", title: "Latency · BBB", wide: false },
    ]);
    // Latency moves above Rates: the viewer's cards follow.
    await setPanels(editor, [
      {
        id: "p2",
        kind: "chart",
        channels: ["BBB"],
        title: "Latency",
        layout: { x: 0, y: 0, w: 1, h: 1 },
      },
      {
        id: "p1",
        kind: "chart",
        channels: ["AAA", "CCC"],
        title: "Rates",
        layout: { x: 0, y: 1, w: 1, h: 1 },
      },
    ]);
    await viewer.waitForFunction(
      () =>
        (document.querySelector('.card[data-channel="AAA"]') as HTMLElement | null)?.style.order ===
          "100",
      null,
      { timeout: 10_000 },
    );
    const moved = (await cards(viewer)).map((c) => c.channel);
    assert.equal(moved, ["BBB", "AAA", "CCC"]);
    await viewer.reload();
    await viewer.waitForSelector("#collab-status.up", { timeout: 15_000 });
    await viewer.waitForFunction(
      () => document.querySelectorAll(".card[data-channel]").length === 3,
      null,
      {
        timeout: 10_000,
      },
    );
    assert.equal((await cards(viewer)).map((c) => [c.channel, c.title]), [
      ["BBB", "Latency · BBB"],
      ["AAA", "Rates · AAA"],
      ["CCC", "Rates · CCC"],
    ]);
  } finally {
    await browser.cleanup();
    await collab.close();
    dir.remove();
  }
});

test("cards no panel names follow by channel name, whatever order their data came in", async () => {
  const dir = tempDir("troupe-dash-order-");
  const collab = await launchCollab({ dataDir: dir.path });
  const browser = await launchBrowser({ width: 1600, height: 1000 });
  try {
    const page = await browser.newPage();
    const token = await tokenFor(dir.path, "ops", "viewer");
    await page.goto(`http://127.0.0.1:${collab.server.port}/?session=ops&token=${token}`);
    await page.waitForSelector("#collab-status.up", { timeout: 15_000 });
    // The order the live router makes cards in: that of the channels' first data (after a
    // reload, whichever the gateway's backfill brings first).
    await page.evaluate((names) => {
      const grid = (globalThis as unknown as PageGrid).troupe.grid;
      for (const n of names) grid.chart(n);
    }, ["SYM004", "SYM005", "SYM001", "SYM003", "SYM002"]);
    assert.equal((await cards(page)).map((c) => c.channel), [
      "SYM001",
      "SYM002",
      "SYM003",
      "SYM004",
      "SYM005",
    ]);
  } finally {
    await browser.cleanup();
    await collab.close();
    dir.remove();
  }
});

/** The channels of the cards shown, in reading order. */
async function shown(page: Page): Promise<string[]> {
  return await page.$$eval(
    ".card[data-channel]",
    (list) =>
      list.filter((c) => !(c as HTMLElement).hidden).map((c) => {
        const r = c.getBoundingClientRect();
        return { top: r.top, left: r.left, channel: (c as HTMLElement).dataset.channel! };
      }).sort((a, b) => a.top - b.top || a.left - b.left).map((c) => c.channel),
  );
}

/** Clicks the button `selector` names (a DOM click, in the page). */
async function press(page: Page, selector: string): Promise<void> {
  await page.$eval(selector, (b) => (b as HTMLButtonElement).click());
}

async function waitShown(page: Page, want: string[]): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (JSON.stringify(await shown(page)) === JSON.stringify(want)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  const detail = await page.$$eval(".card[data-channel]", (list) =>
    list.map((c) => {
      const r = c.getBoundingClientRect();
      const h = c as HTMLElement;
      return `${h.dataset.channel} order=${h.style.order} panel=${h.dataset.panel} hidden=${h.hidden} ${r.top},${r.left}`;
    }));
  assert.equal(await shown(page), want, detail.join("; "));
}

test("an editor orders and removes cards for the whole session; just my view is a viewer's own", async () => {
  const dir = tempDir("troupe-dash-layout-");
  const collab = await launchCollab({ dataDir: dir.path });
  // Two browsers: "just my view" is kept in a browser's own storage.
  const browsers = [
    await launchBrowser({ width: 1600, height: 1000 }),
    await launchBrowser({ width: 1600, height: 1000 }),
  ];
  try {
    const base = `http://127.0.0.1:${collab.server.port}`;
    const open = async (role: "editor" | "viewer") => {
      const page = await browsers[role === "editor" ? 0 : 1]!.newPage();
      const token = await tokenFor(dir.path, "ops", role);
      await page.goto(`${base}/?session=ops&token=${token}&name=${role}`);
      await page.waitForSelector("#collab-status.up", { timeout: 15_000 });
      await page.evaluate((names) => {
        const grid = (globalThis as unknown as PageGrid).troupe.grid;
        for (const n of names) grid.chart(n);
      }, ["AAA", "BBB", "CCC"]);
      return page;
    };
    const editor = await open("editor");
    const viewer = await open("viewer");
    const errors: string[] = [];
    for (const p of [editor, viewer]) p.on("pageerror", (e) => errors.push(e.message));

    const card = (c: string, button: string) => `.card[data-channel="${c}"] button[name=${button}]`;
    await press(editor, card("CCC", "earlier"));
    await waitShown(editor, ["AAA", "CCC", "BBB"]);
    await press(editor, card("CCC", "earlier"));
    await waitShown(editor, ["CCC", "AAA", "BBB"]);
    await waitShown(viewer, ["CCC", "AAA", "BBB"]);
    await press(editor, card("BBB", "remove"));
    await waitShown(viewer, ["CCC", "AAA"]);
    // A viewer cannot change the team's layout, but may keep its own.
    assert.ok(await viewer.isDisabled(card("AAA", "earlier")));
    await viewer.check("input[name=just-my-view]");
    assert.ok(!(await viewer.isDisabled(card("AAA", "earlier"))));
    await press(viewer, card("AAA", "earlier"));
    await waitShown(viewer, ["AAA", "CCC"]);
    await press(viewer, "button[name=show-all]");
    await waitShown(viewer, ["AAA", "CCC", "BBB"]);
    await waitShown(editor, ["CCC", "AAA"]);
    // After a reload, each keeps what it had.
    for (const page of [editor, viewer]) {
      await page.reload();
      await page.waitForSelector("#collab-status.up", { timeout: 15_000 });
      await page.evaluate((names) => {
        const grid = (globalThis as unknown as PageGrid).troupe.grid;
        for (const n of names) grid.chart(n);
      }, ["BBB", "AAA", "CCC"]);
    }
    await waitShown(editor, ["CCC", "AAA"]);
    await waitShown(viewer, ["AAA", "CCC", "BBB"]);
    assert.ok(await viewer.isChecked("input[name=just-my-view]"));
    assert.equal(errors, []);
  } finally {
    for (const b of browsers) await b.cleanup();
    await collab.close();
    dir.remove();
  }
});

interface PageGrid {
  troupe: { grid: { chart(channel: string): unknown } };
}

if (run) test.run();
