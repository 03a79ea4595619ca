/**
 * A range over 31 days in a real browser, over a real nats-server whose feed stream holds ten
 * minutes of a channel: the card is served its history in coarse buckets (before, every card said
 * `History request spans … µs, over the limit of 2678400000000` and asked again and again). A
 * range over the limit history serves is refused in the range picker in words before any card
 * asks; and a card given such a range anyway says it cannot be read and never asks again.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { HISTORY_LIMITS } from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { openDashboardOverHistory } from "./_support.ts";

const NAME = "dashboard long range in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

interface PageChart {
  source: string;
  showRange(r: { min: number; max: number }): void;
}
interface PageTroupe {
  troupe: { grid: { chart(c: string): PageChart | undefined } };
}

/** `s` seconds since the epoch as the range fields take it (`YYYY-MM-DD HH:MM`). */
function field(s: number): string {
  return new Date(s * 1000).toISOString().slice(0, 16).replace("T", " ");
}

test("80 days are served in coarse buckets; a range over the limit is refused before asking, never retried", async () => {
  const dash = await openDashboardOverHistory({
    name: "long-range",
    history: { channel: "LONG", spanS: 600, value: (k) => 10 + (k % 7) },
  });
  try {
    let asked = 0;
    const page = await dash.open({
      prepare(page) {
        page.on("websocket", (ws) => {
          if (!ws.url().includes("/stream")) return;
          ws.on("framesent", (f) => {
            if (typeof f.payload !== "string" && f.payload.includes("history")) asked++;
          });
        });
        page.on("request", (r) => void (new URL(r.url()).pathname === "/history" && asked++));
      },
    });
    await page.evaluate(() => void (globalThis as unknown as PageTroupe).troupe.grid.chart("LONG"));
    const card = '.card[data-channel="LONG"]';
    await page.waitForSelector(card, { timeout: 5_000 });
    const now = Date.now() / 1000;
    await page.fill("input[name=range-from]", field(now - 80 * 86_400));
    await page.fill("input[name=range-to]", field(now + 120));
    await page.click("button[name=range-custom]");
    await page.waitForSelector(`${card}[data-history-samples]`, { timeout: 20_000 });
    assert.is(await page.getAttribute(card, "data-history-samples"), "600");
    const source = () =>
      page.evaluate(() => (globalThis as unknown as PageTroupe).troupe.grid.chart("LONG")!.source);
    assert.is(await source(), "history");
    assert.ok(await page.locator(`${card} .history-failure`).isHidden());

    // Over the limit: said in words, nothing asked.
    const before = asked;
    await page.fill("input[name=range-from]", field(now - 4000 * 86_400));
    await page.click("button[name=range-custom]");
    const why = (await page.textContent("#range .range-error"))!;
    const days = HISTORY_LIMITS.span_us_max / 86_400e6;
    assert.match(why, `at most ${days} days`);
    assert.is(await source(), "history", "the range shown is kept");

    // A card given such a range anyway (a zoom out, a link): it says so, asks nothing, and never
    // asks again (before, it retried every few seconds a request that could never succeed).
    await page.evaluate((n) => {
      (globalThis as unknown as PageTroupe).troupe.grid.chart("LONG")!.showRange({
        min: n - 4000 * 86_400,
        max: n,
      });
    }, now);
    await page.waitForSelector(`${card} .history-failure:not([hidden])`, { timeout: 5_000 });
    const said = (await page.textContent(`${card} .history-failure .reason`))!;
    assert.match(said, "cannot be read");
    assert.not.match(said, "Trying again");
    await new Promise((r) => setTimeout(r, 2_500));
    assert.is(asked, before, "nothing asked over the limit");
    assert.is(await source(), "failed");
  } finally {
    await dash.close();
  }
});

if (run) test.run();
