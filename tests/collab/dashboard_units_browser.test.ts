/**
 * Units on the dashboard in a real browser, fed through a real nats-server and the stream gateway
 * (issue 31: no units anywhere): a metrics channel's card says its unit in its header and over its
 * value labels, and the shared crosshair writes each value with it; a market symbol has none. A
 * unit a team sets (the session document's `units`) is shown instead, on every page of the
 * session; one that does not fit the schema, or a viewer's, is refused and shown nowhere.
 */
import type { Page } from "playwright-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { encodeColumns, outSubject } from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { type Dashboard, openDashboard } from "./_support.ts";

const NAME = "dashboard units in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

const CHANNELS = [["api-latency_ms", 100, "ms"], ["web-cpu", 40, "%"], ["BTC", 200, ""]] as const;

/**
 * Publishes 20 s of each channel at 10 samples a second (base + s, s: the second) and waits until
 * every page holds them; gives the first sample's time, µs.
 */
async function publishChannels(dash: Dashboard, pages: readonly Page[]): Promise<number> {
  const t0 = (Math.floor(Date.now() / 1000) - 20) * 1_000_000;
  for (const [channel, base] of CHANNELS) {
    const t = new Float64Array(200).map((_, i) => t0 + i * 1e5);
    const v = new Float64Array(200).map((_, i) => base + Math.floor(i / 10));
    dash.bus.publish(
      outSubject("anomaly", channel),
      encodeColumns({
        channel,
        seq0: 0,
        t,
        columns: { value: v, expected: v, lower: v.map((x) => x - 1), upper: v.map((x) => x + 1) },
      }, { id: `x-${channel}`, src: "test" }),
    );
  }
  await dash.bus.flush();
  for (const page of pages) {
    await page.waitForFunction(
      (names) =>
        names.every((c) =>
          (globalThis as unknown as { troupe: { grid: { chart(c: string): { points: number } } } })
            .troupe.grid.chart(c).points === 200
        ),
      CHANNELS.map(([c]) => c),
      { timeout: 20_000 },
    );
  }
  return t0;
}

/** What each card's readout says once the pointer is over the middle of `channel`'s chart. */
async function crosshair(page: Page, channel: string): Promise<Record<string, string>> {
  const over = await page.locator(`.card[data-channel="${channel}"] .u-over`).boundingBox();
  assert.ok(over, `chart ${channel} has a plot`);
  await page.mouse.move(over.x + over.width / 2, over.y + over.height / 2);
  await page.waitForFunction(
    (names) =>
      names.every((c) => document.querySelector(`[data-channel="${c}"] .readout`)?.textContent),
    CHANNELS.map(([c]) => c),
    { timeout: 5_000 },
  );
  return Object.fromEntries(
    await page.$$eval(
      ".card",
      (cs) =>
        cs.map((
          c,
        ) => [(c as HTMLElement).dataset.channel, c.querySelector(".readout")?.textContent ?? ""]),
    ),
  );
}

/** One dashboard for the suite (its set-up is most of a test's time): two editors, a viewer. */
let w: { dash: Dashboard; ana: Page; bo: Page; vi: Page; t0: number } | undefined;

test.before(async () => {
  const dash = await openDashboard({ name: "units" });
  try {
    const ana = await dash.open({ role: "editor" });
    const bo = await dash.open({ role: "editor" });
    const vi = await dash.open({ role: "viewer" });
    w = { dash, ana, bo, vi, t0: await publishChannels(dash, [ana, bo, vi]) };
  } catch (err) {
    await dash.close();
    throw err;
  }
});

test.after(async () => {
  await w?.dash.close();
});

test("a metrics card shows its unit in its header, on its y axis and at the crosshair", async () => {
  const { vi: page, t0 } = w!;
  await page.waitForTimeout(300);
  for (const [channel, , unit] of CHANNELS) {
    const card = `.card[data-channel="${channel}"]`;
    assert.is(await page.$eval(`${card} h3 .unit`, (e) => e.textContent), unit, channel);
    const axis = page.locator(`${card} .y-unit`);
    assert.is(await axis.textContent(), unit, channel);
    const box = await axis.boundingBox();
    const plot = await page.locator(`${card} .plot`).boundingBox();
    if (unit === "") {
      assert.is(box, null, `${channel}: no unit, no label`);
      continue;
    }
    // In the value labels' margin (the live view's left 50 CSS pixels), above the plot's top
    // margin's middle (10 CSS pixels: no value label reaches higher).
    assert.ok(box && plot, channel);
    const where = JSON.stringify({ box, plot });
    assert.ok(box.x >= plot.x && box.x + box.width <= plot.x + 50, where);
    assert.ok(box.y + box.height <= plot.y + 5, where);
  }
  const over = await page.locator('.card[data-channel="api-latency_ms"] .u-over').boundingBox();
  assert.ok(over, "chart api-latency_ms has a plot");
  await page.mouse.move(over.x + over.width / 2, over.y + over.height / 2);
  await page.waitForFunction(
    () => document.querySelector('.card[data-channel="BTC"] .readout')?.textContent !== "",
    null,
    { timeout: 5_000 },
  );
  for (const [channel, base, unit] of CHANNELS) {
    const r = await page.$eval(`.card[data-channel="${channel}"] .readout`, (e) => ({
      text: e.textContent ?? "",
      t: Number((e as HTMLElement).dataset.t),
    }));
    const value = base + Math.floor(r.t - t0 / 1e6 + 1e-9);
    const shown = unit === "" ? `${value}` : unit === "%" ? `${value}%` : `${value} ${unit}`;
    assert.match(r.text, new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d ${shown}$`), channel);
  }
});

/** The unit a page shows for `channel`: in its header and over its value labels. */
function shownUnit(page: Page, channel: string): Promise<[string, string]> {
  return page.$eval(`.card[data-channel="${channel}"]`, (c) => [
    c.querySelector("h3 .unit")?.textContent ?? "",
    c.querySelector(".y-unit")?.textContent ?? "",
  ]);
}

async function untilUnit(page: Page, channel: string, unit: string): Promise<void> {
  await page.waitForFunction(
    ([c, u]) => document.querySelector(`.card[data-channel="${c}"] h3 .unit`)?.textContent === u,
    [channel, unit] as const,
    { timeout: 5_000 },
  );
  assert.equal(await shownUnit(page, channel), [unit, unit], `${channel} on a page`);
}

/** Sets `channel`'s unit from its card's control, as a user does. */
async function setFromCard(page: Page, channel: string, unit: string): Promise<void> {
  await page.click(`.card[data-channel="${channel}"] button[name=set-unit]`);
  await page.fill(`.card[data-channel="${channel}"] input[name=unit]`, unit);
  await page.press(`.card[data-channel="${channel}"] input[name=unit]`, "Enter");
}

/** A write straight on the page's Yjs document, as a console or a stock client would make. */
function rawWrite(page: Page, channel: string, unit: unknown): Promise<void> {
  return page.evaluate(([c, u]) => {
    const t = (globalThis as unknown as {
      troupe: { link: { doc: { getMap(k: string): { set(k: string, v: unknown): void } } } };
    }).troupe;
    t.link.doc.getMap("units").set(c, u);
  }, [channel, unit] as const);
}

test("a unit an editor sets on a card shows on every page, in the header, over the values and at the crosshair; a malformed one and a viewer's are refused", async () => {
  const { ana, bo, vi } = w!;
  await setFromCard(ana, "BTC", "USD");
  await setFromCard(ana, "api-latency_ms", "µs");
  for (const page of [ana, bo, vi]) {
    await untilUnit(page, "BTC", "USD");
    await untilUnit(page, "api-latency_ms", "µs");
  }
  const at = await crosshair(bo, "api-latency_ms");
  assert.match(at.BTC!, /^\d\d:\d\d:\d\d\.\d \d+ USD$/, at.BTC);
  assert.match(at["api-latency_ms"]!, /^\d\d:\d\d:\d\d\.\d \d+ µs$/);
  assert.match(at["web-cpu"]!, /^\d\d:\d\d:\d\d\.\d \d+%$/, "web-cpu keeps its own");

  // The control says what does not fit, and writes nothing.
  await setFromCard(ana, "web-cpu", "a unit far too long");
  const error = await ana.getAttribute(
    ".card[data-channel=web-cpu] input[name=unit]",
    "data-error",
  );
  assert.match(error ?? "", /"units\.web-cpu" must be a unit of 1 to 16/);
  await ana.press(".card[data-channel=web-cpu] input[name=unit]", "Escape");
  // Written past the control, the server refuses it: the writer's page rolls it back.
  await rawWrite(ana, "web-cpu", 42);
  const reason = await ana.waitForSelector("#refused-notice .reason", { timeout: 5_000 });
  assert.match(await reason.textContent() ?? "", /units\.web-cpu.*got 42/);
  await untilUnit(ana, "web-cpu", "%");

  // A viewer's control is off, and a write made anyway is refused and rolled back.
  assert.ok(await vi.isDisabled(".card[data-channel=BTC] button[name=set-unit]"));
  await rawWrite(vi, "BTC", "EUR");
  await vi.waitForSelector("#refused-notice", { timeout: 5_000 });
  await untilUnit(vi, "BTC", "USD");

  // Cleared, a channel shows the unit its name says again.
  await setFromCard(ana, "api-latency_ms", "");
  await untilUnit(bo, "api-latency_ms", "ms");
  const units = await bo.evaluate(() =>
    JSON.stringify(
      (globalThis as unknown as {
        troupe: { link: { sdoc: { units: { toJSON(): unknown } } } };
      }).troupe.link.sdoc.units.toJSON(),
    )
  );
  assert.is(units, JSON.stringify({ BTC: "USD" }), "nothing refused was stored");
});

test("an editor sets a unit for a pattern from a card: every channel it names shows it, a name still wins", async () => {
  const { ana, bo } = w!;
  const card = ".card[data-channel=web-cpu]";
  await ana.click(`${card} button[name=set-unit]`);
  // The field for whose unit starts at the card's channel; a key that is no name nor pattern is
  // said and not written.
  assert.is(await ana.inputValue(`${card} input[name=unit-key]`), "web-cpu");
  await ana.fill(`${card} input[name=unit-key]`, "web.*");
  await ana.fill(`${card} input[name=unit]`, "x/s");
  await ana.press(`${card} input[name=unit]`, "Enter");
  const error = await ana.getAttribute(`${card} input[name=unit]`, "data-error");
  assert.match(error ?? "", /"units\.web\.\*" must be keyed by a channel or a pattern/);
  // Moving from one field to the other keeps the edit open.
  await ana.click(`${card} input[name=unit-key]`);
  await ana.fill(`${card} input[name=unit-key]`, "*-*");
  await ana.press(`${card} input[name=unit-key]`, "Enter");
  for (const page of [ana, bo]) {
    await untilUnit(page, "web-cpu", "x/s");
    await untilUnit(page, "api-latency_ms", "x/s");
    await untilUnit(page, "BTC", "USD");
  }
  // Cleared by the same pattern, each channel shows its own unit again.
  await ana.click(`${card} button[name=set-unit]`);
  await ana.fill(`${card} input[name=unit-key]`, "*-*");
  await ana.fill(`${card} input[name=unit]`, "");
  await ana.press(`${card} input[name=unit]`, "Enter");
  await untilUnit(bo, "web-cpu", "%");
  await untilUnit(bo, "api-latency_ms", "ms");
});

if (run) test.run();
