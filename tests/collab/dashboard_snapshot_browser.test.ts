/**
 * A fresh page starts from a snapshot of recent state (issue 31 item 5), in a real browser on a
 * real nats-server: of a gateway buffer holding 6,000 messages it shows, it is handed the newest
 * SNAPSHOT_MESSAGES and goes live, rather than draining the whole buffer (a page saw 24,000 take
 * 16 s, with old events on top of the list meanwhile); and an event older than the rows shown goes
 * below them, never on top as if new.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { SNAPSHOT_MESSAGES } from "../../collab/web/browser/snapshot.ts";
import { encodeColumns, encodeEnvelope, findingSubject, outSubject } from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { openDashboard } from "./_support.ts";

const NAME = "dashboard: a fresh page starts from a snapshot";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

const BUFFERED = 6000;

test("a fresh page takes the newest messages of the buffer, and an old event goes below newer rows", async () => {
  const dash = await openDashboard({
    name: "snapshot",
    collab: { streamLimits: { buffer_messages_max: 20_000 } },
  });
  const { bus, collab } = dash;
  try {
    await collab.bus!.flush();
    const t0 = Date.now() * 1000 - BUFFERED * 1000;
    for (let i = 0; i < BUFFERED; i++) {
      const one = (x: number) => Float64Array.of(x);
      bus.publish(
        outSubject("anomaly", "AAA"),
        encodeColumns({
          channel: "AAA",
          seq0: i,
          t: one(t0 + i * 1000),
          columns: { value: one(i), expected: one(i), lower: one(i - 1), upper: one(i + 1) },
        }, { id: `c-${i}`, src: "test" }),
      );
    }
    await bus.flush();
    const deadline = Date.now() + 20_000;
    while (collab.stream!.stats().received < BUFFERED && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.is(collab.stream!.stats().received, BUFFERED);
    const page = await dash.open({
      backfill: true,
      waitFor: "body[data-stream-live]",
      timeoutMs: 30_000,
    });
    // The snapshot is routed a frame's budget at a time: what waits is routed first.
    await page.waitForFunction(() =>
      (globalThis as unknown as { troupe: { routing: { waiting: number } } }).troupe.routing
        .waiting === 0
    );
    const routed = await page.evaluate(() =>
      (globalThis as unknown as { troupe: { messageTimes: number[] } }).troupe.messageTimes.length
    );
    // The snapshot, and what came live meanwhile (a margin: the page takes no troupe.sys digests now).
    assert.ok(
      routed >= SNAPSHOT_MESSAGES && routed < SNAPSHOT_MESSAGES + 50,
      `the page started from the newest ${SNAPSHOT_MESSAGES} messages only, got ${routed}`,
    );
    assert.is(await page.textContent("#stream-status"), "live");

    // A new event, then one from three minutes ago (a late delivery): the new one stays on top.
    const nowUs = Date.now() * 1000;
    const event = (id: string, channel: string, ts: number) =>
      encodeEnvelope({
        id,
        type: "anomaly",
        src: "test",
        ts,
        body: { channel, value: 2, expected: 1, lower: 0.5, upper: 1.5, score: 0.9 },
      });
    bus.publish(findingSubject("anomaly", "NEW"), event("e-new", "NEW", nowUs));
    bus.publish(findingSubject("anomaly", "OLD"), event("e-old", "OLD", nowUs - 182e6));
    await bus.flush();
    await page.waitForSelector('#events li[data-channel="OLD"]', {
      state: "attached",
      timeout: 10_000,
    });
    const order = await page.$$eval("#events li", (lis) => lis.map((li) => li.dataset.channel));
    assert.equal(order, ["NEW", "OLD"]);
  } finally {
    await dash.close();
  }
});

if (run) test.run();
