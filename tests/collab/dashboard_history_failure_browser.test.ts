/**
 * A card whose history could not be read says so and reads it again, in real Chromium against a
 * real nats-server and the collab server's history service: the feed stream it reads allows one
 * consumer, which another holds, so JetStream refuses each read's consumer ("maximum consumers
 * limit reached") and the service answers with that; the holder then lets go. On the code before
 * (e351250), the card stayed `loading` for good, the reason only in its title's tooltip, and
 * nothing read the range again.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { AckPolicy, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { FEED_STREAM } from "../../actors/runtime/mod.ts";
import { SUBJECT_ROOT } from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { feedHistory } from "./_support.ts";
import {
  findings,
  incidentOfCh,
  incidentSession,
  live,
  near,
  type PageTroupe,
  rangeReaches,
  S,
  shown,
  sourceIs,
  SPAN_S,
} from "./_incident_page.ts";

const NAME = "dashboard history read failed";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

const NOTE = '.card[data-channel="CH"] .history-failure';

test("a failed history read is said in the card, tried again, and the line goes on", async () => {
  await incidentSession({ name: "history-failure" }, async (s) => {
    const { now, page } = s;
    // The feed stream the history service reads, made again with room for one consumer, held.
    const jsm = await jetstreamManager(s.bus.nc);
    await jsm.streams.delete(FEED_STREAM);
    await jsm.streams.add({
      name: FEED_STREAM,
      subjects: [`${SUBJECT_ROOT}.feed.>`],
      storage: StorageType.File,
      max_consumers: 1,
    });
    await feedHistory(s.bus, "CH", SPAN_S);
    await jsm.consumers.add(FEED_STREAM, { durable_name: "holder", ack_policy: AckPolicy.None });
    // The ring holds CH's last 20 s; an incident of CH began 200 s ago, before them.
    await live(s, Float64Array.from({ length: 20 }, (_, i) => now - (19 - i) * S), 20);
    await findings(s, "CH", [now - 200 * S, now - 190 * S]);
    await incidentOfCh(s, "firing", true);

    // The card says it (on the code before, it stayed `loading`, nothing in the card).
    await sourceIs(page, "failed");
    const note = page.locator(NOTE);
    await note.waitFor({ state: "visible", timeout: 5_000 });
    assert.is(await note.getAttribute("role"), "alert");
    const text = (await note.textContent()) ?? "";
    assert.match(
      text,
      /^Could not read \d{4}-\d\d-\d\d \d\d:\d\d:\d\d – .* UTC: History of CH: maximum consumers/,
    );
    assert.match(text, /Trying again at \d\d:\d\d:\d\d\./);
    // The line goes on meanwhile: a sample comes, the window reaches it and the line draws it.
    await live(s, Float64Array.of(now + S), 21);
    await rangeReaches(page, now / S + 1);
    const failed = await shown(page);
    assert.is(failed.source, "failed");
    near(failed.last?.t, now / S + 1, "the line's last point");

    // The retry button reads it again now: it fails again, and the note says when the next try
    // is (later than the first: each try waits longer).
    const retryAt = () => note.getAttribute("data-retry-at").then(Number);
    const first = await retryAt();
    await page.locator(`${NOTE} button[name="retry"]`).click();
    await page.waitForFunction(
      ([sel, at]) => Number(document.querySelector(sel)?.getAttribute("data-retry-at")) > at,
      [NOTE, first] as const,
      { timeout: 20_000 },
    );
    assert.ok((await retryAt()) - first > 2_000, "the next try waits longer");

    // The holder lets go: the next try reads the range by itself, and the note goes.
    await jsm.consumers.delete(FEED_STREAM, "holder");
    await sourceIs(page, "history");
    await note.waitFor({ state: "hidden", timeout: 5_000 });
    // What the ring never held, 150 s back, is drawn from the answer.
    const back = now / S - 150;
    const read = await page.evaluate(
      (t) => (globalThis as unknown as PageTroupe).troupe.grid.chart("CH")!.valueAt(t),
      back,
    );
    assert.ok(read && Math.abs(read.t - back) <= 1, `drawn from history: ${JSON.stringify(read)}`);
  });
});

if (run) test.run();
