/**
 * A fresh page and the stream gateway's buffer, in a real browser on a real nats-server: the
 * gateway has already let go of older messages when the page opens, so the page's backfill
 * starts with a gap. That is the buffer's horizon, not something the page missed: its status must
 * read `live`, not `live (N missed)` (issue 31 saw `live (23991 missed)` in green on a new page).
 * A gap after the page caught up is still told as missed. And a columns frame whose columns do not
 * match its times is counted as undecodable and not drawn, as a host would refuse it; the collab
 * nodes' own anti-entropy digests on troupe.sys are not the page's to decode, and not counted.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { NatsBus } from "../../actors/runtime/mod.ts";
import * as Y from "yjs";
import { digestOf, digestSubject, encodeDigest } from "../../collab/mod.ts";
import { encodeColumns, encodeEnvelope, outSubject } from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { type Dashboard, openDashboard } from "./_support.ts";

const NAME = "dashboard stream status in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

interface PageTroupe {
  troupe: {
    grid: { channels(): string[]; chart(c: string): { points: number } };
    router: { undecodable: number; lastError: string };
  };
}

/** `n` messages of the anomaly actor's columns for `channel`, one sample each. */
async function publishColumns(bus: NatsBus, channel: string, from: number, n: number) {
  const t0 = Date.now() * 1000;
  for (let i = from; i < from + n; i++) {
    const one = (x: number) => Float64Array.of(x);
    bus.publish(
      outSubject("anomaly", channel),
      encodeColumns({
        channel,
        seq0: i,
        t: one(t0 + i * 1000),
        columns: { value: one(i), expected: one(i), lower: one(i - 1), upper: one(i + 1) },
      }, { id: `c-${channel}-${i}`, src: "test" }),
    );
  }
  await bus.flush();
}

// One dashboard for the suite (its gateway keeps 100 messages); each test opens its own page.
let dash: Dashboard;
test.before(async () => {
  dash = await openDashboard({
    name: "stream",
    collab: { streamLimits: { buffer_messages_max: 100 } },
  });
});
test.after(async () => await dash?.close());

test("a fresh page whose backfill starts past the buffer's oldest says live, not missed", async () => {
  const { bus, collab } = dash;
  await collab.bus!.flush();
  await publishColumns(bus, "AAA", 0, 400);
  const deadline = Date.now() + 10_000;
  while (collab.stream!.stats().received < 400 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const page = await dash.open({ backfill: true });
  // The backfill (the last 100) drawn, and a live message.
  await publishColumns(bus, "AAA", 400, 1);
  const points = () =>
    page.evaluate(() => {
      const g = globalThis as unknown as {
        troupe: { grid: { channels(): string[]; chart(c: string): { points: number } } };
      };
      return g.troupe.grid.channels().includes("AAA") ? g.troupe.grid.chart("AAA").points : 0;
    });
  for (let i = 0; i < 200 && (await points()) < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  // What the buffer held when the page subscribed, and the live one (which may have evicted
  // the oldest of them before the backfill reached it).
  assert.ok([100, 101].includes(await points()), `${await points()} points`);
  assert.is(await page.textContent("#stream-status"), "live");
  // The page asks for a snapshot (the newest it shows, `last`), which starts at the buffer's
  // oldest: no gap at all, where `since: 0` alone was told a gap of the 300 evicted.
  assert.not.match(await page.getAttribute("#stream-status", "title") ?? "", /older messages/);
  await page.close();
});

test("a columns frame with a column shorter than its times is counted undecodable, not drawn; a collab node's digest is not relayed", async () => {
  const bus = dash.bus;
  const page = await dash.open();
  const bin = (...xs: number[]) => new Uint8Array(Float64Array.from(xs).buffer);
  const t0 = Date.now() * 1000;
  // What another collab node publishes about every 5 s for each loaded session: a lib0 digest
  // on troupe.sys, not an envelope. The page subscribed to all of troupe.sys and counted each
  // one undecodable (the second count seen once here, when the server's own came in time).
  bus.publish(digestSubject("ops"), encodeDigest(digestOf(new Y.Doc(), "peer-node")));
  // Three times, two values: what encodeColumns refuses to write, spelled by hand.
  bus.publish(
    outSubject("anomaly", "BAD"),
    encodeEnvelope({
      id: "bad",
      type: "columns",
      src: "test",
      ts: t0,
      body: {
        channel: "BAD",
        seq0: 0,
        t: bin(t0, t0 + 1000, t0 + 2000),
        columns: { value: bin(1, 2), expected: bin(1, 2, 3) },
      },
    }),
  );
  await publishColumns(bus, "BAD", 3, 1); // a good one after it, on the same channel
  await page.waitForFunction(
    () => {
      const g = (globalThis as unknown as PageTroupe).troupe.grid;
      return g.channels().includes("BAD") && g.chart("BAD").points >= 1;
    },
    undefined,
    { timeout: 20_000 },
  );
  const seen = await page.evaluate(() => {
    const t = (globalThis as unknown as PageTroupe).troupe;
    return {
      points: t.grid.chart("BAD").points,
      undecodable: t.router.undecodable,
      lastError: t.router.lastError,
    };
  });
  assert.equal(seen, {
    points: 1,
    undecodable: 1,
    lastError: 'troupe.out.anomaly.BAD: Column "value" has 2 values for 3 times',
  });
  await page.close();
});

if (run) test.run();
