/**
 * A card whose history is read over HTTP from a server that does not answer ends in its failure
 * note, and its automatic retry fills the card once the server answers again, in real Chromium
 * against a real nats-server and a real `troupe collab` process: the page's stream socket is
 * closed (history then goes by `GET /history`), and the collab server is paused (SIGSTOP), so the
 * request is never answered while it is. The page's wait is shortened to 1 s
 * (`&history_timeout_ms=1000`; 10 s unless said). On the code before (e351250), that fetch had
 * no timeout: the card stayed `loading` for as long as the server said nothing.
 *
 * Not the nats-server paused: the collab server's own JetStream requests then time out after 5 s
 * and `GET /history` answers 502, so the request is not left without an answer.
 */
import process from "node:process";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Page } from "playwright-core";
import { NatsBus } from "../../actors/runtime/mod.ts";
import { outSubject } from "../../protocol/mod.ts";
import { haveBrowser, launchBrowser } from "../_support/browser.ts";
import { startTroupe } from "../_support/cli.ts";
import { anomalyColumns } from "../_support/findings.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { feedHistory, tokenFor } from "./_support.ts";
import { type PageTroupe, S, sourceIs, SPAN_S } from "./_incident_page.ts";

const NAME = "dashboard history read that never answers";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

const NOTE = '.card[data-channel="CH"] .history-failure';

interface HangTroupe {
  troupe: {
    stream: { close(): void };
    history: { bySocket: number; byHttp: number };
  };
}

/** The note's next try (ms since the epoch). */
const retryAt = (page: Page) => page.locator(NOTE).getAttribute("data-retry-at").then(Number);

/** Waits until the note's next try is later than `at`: a try ended in the note again. */
async function triedAgain(page: Page, at: number): Promise<void> {
  await page.waitForFunction(
    ([sel, at]) => Number(document.querySelector(sel)?.getAttribute("data-retry-at")) > at,
    [NOTE, at] as const,
    { timeout: 20_000 },
  );
}

/** CH's card, its ring holding the last 20 s before `now` (µs), on the page. */
async function liveCard(page: Page, bus: NatsBus, now: number): Promise<void> {
  const t = Float64Array.from({ length: 20 }, (_, i) => now - (19 - i) * S);
  bus.publish(outSubject("anomaly", "CH"), anomalyColumns("CH", t));
  await bus.flush();
  await page.waitForFunction(
    () => ((globalThis as unknown as PageTroupe).troupe.grid.chart("CH")?.points ?? 0) >= 20,
    null,
    { timeout: 20_000 },
  );
}

test("a GET /history with no answer ends in the card's note, and the retry fills it", async () => {
  const nats = await startTestNats();
  const dir = tempDir("troupe-hang-");
  const collab = startTroupe(["collab", "--nats", nats.url, "--port", "0", "--data-dir", dir.path]);
  const bus = await NatsBus.connect(nats.url, { name: "dash-history-hang" });
  const browser = await launchBrowser({ width: 1600, height: 1000 });
  let paused = false;
  const pause = (signal: "SIGSTOP" | "SIGCONT") => {
    process.kill(collab.child.pid!, signal);
    paused = signal === "SIGSTOP";
  };
  try {
    await collab.waitFor("dashboard http://");
    const base = /dashboard (http:\/\/[^/]+)\//.exec(collab.output())![1];
    const now = await feedHistory(bus, "CH", SPAN_S);
    const token = await tokenFor(dir.path, "ops", "viewer");
    const errors: string[] = [];
    const page = await browser.newPage();
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${base}/?session=ops&token=${token}&backfill=0&history_timeout_ms=1000`);
    await page.waitForSelector("body[data-stream-subscribed]", { timeout: 20_000 });
    await liveCard(page, bus, now);
    // The stream socket closes for good: history goes by GET /history from now on.
    await page.evaluate(() => (globalThis as unknown as HangTroupe).troupe.stream.close());

    // The collab server answers nothing while paused; the last hour is asked of it.
    pause("SIGSTOP");
    await page.click("#range button[name=range-1h]");
    // On the code before, the card stayed `loading` here.
    await sourceIs(page, "failed");
    const note = page.locator(NOTE);
    await note.waitFor({ state: "visible", timeout: 5_000 });
    assert.is(await note.getAttribute("data-message"), "History of CH: no answer in 1 s");
    assert.match(
      (await note.textContent()) ?? "",
      /^Could not read .* UTC: History of CH: no answer in 1 s\. Trying again at \d\d:\d\d:\d\d\./,
    );
    // The retry, by itself, gets no answer either, and the note says when the next one is.
    await triedAgain(page, await retryAt(page));
    assert.is(await note.getAttribute("data-message"), "History of CH: no answer in 1 s");

    // The server goes on: a later try reads the range by itself, over HTTP, and the note goes;
    // what the ring never held, 150 s back, is drawn from the answer.
    pause("SIGCONT");
    await sourceIs(page, "history", 40_000);
    await note.waitFor({ state: "hidden", timeout: 5_000 });
    const back = now / S - 150;
    const read = await page.evaluate(
      (t) => (globalThis as unknown as PageTroupe).troupe.grid.chart("CH")!.valueAt(t),
      back,
    );
    assert.ok(read && Math.abs(read.t - back) <= 1, `drawn from history: ${JSON.stringify(read)}`);
    const counts = await page.evaluate(() => {
      const h = (globalThis as unknown as HangTroupe).troupe.history;
      return { bySocket: h.bySocket, byHttp: h.byHttp };
    });
    assert.equal(counts, { bySocket: 0, byHttp: 1 });
    assert.equal(errors, []);

    // An address with a wait that is not a positive number says so, naming it and its value.
    const bad = await browser.newPage();
    await bad.goto(`${base}/?session=ops&token=${token}&history_timeout_ms=0`);
    assert.is(
      await bad.textContent("pre.error"),
      "The dashboard's address has history_timeout_ms=0: a positive number of ms is needed",
    );
  } finally {
    if (paused) pause("SIGCONT");
    await browser.cleanup();
    await bus.close();
    await collab.stop();
    await nats.cleanup();
    dir.remove();
  }
});

if (run) test.run();
