/**
 * Actor restarts in the dashboard's event list, end to end: a real host on a real nats-server runs
 * a kind whose kernel throws on one input; the host restarts the instance and announces it on
 * `troupe.sys.actor.restarted`; the stream gateway relays it to the page in headless Chromium,
 * whose event list shows it as an actor event naming the instance, the failure and the backoff.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Host, MemoryJournal, MemorySnapshotStore } from "../../actors/runtime/mod.ts";
import { flakyKind } from "../_support/failing_kinds.ts";
import { findingsOf } from "../../collab/mod.ts";
import {
  encodeEnvelope,
  encodeFrame,
  feedSubject,
  findingSubject,
  outSubject,
} from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { type Dashboard, openDashboard } from "./_support.ts";

const NAME = "dashboard event list in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

/** Stats, except that the kernel throws on the value 666. */
const flaky = flakyKind;

// One dashboard for the suite; each test opens its own page.
let dash: Dashboard;
test.before(async () => {
  dash = await openDashboard({ name: "events" });
});
test.after(async () => await dash?.close());

test("a restarted actor appears in the event list with its failure and backoff", async () => {
  const bus = dash.bus;
  const logs: string[] = [];
  const host = new Host({
    hostId: "h-events",
    bus,
    actors: [flaky],
    journal: new MemoryJournal(),
    snapshots: new MemorySnapshotStore(),
    supervision: { backoffMsBase: 20, inputFailuresMax: 2, failuresMax: 10 },
    log: (m) => logs.push(m),
  });
  try {
    await host.start();
    const page = await dash.open();
    for (let f = 0; f < 4; f++) {
      const t = new Float64Array(5).map((_, i) => 1_700_000_000_000_000 + (f * 5 + i) * 1000);
      const v = new Float64Array(5).map((_, i) => (f === 1 && i === 2 ? 666 : 10 + i));
      bus.publish(
        feedSubject("test", "z"),
        encodeFrame({ channel: "z", seq0: f * 5, t, v }, { id: `ev-z-${f}`, src: "test" }),
      );
    }
    const row = page.locator('#events li[data-kind="actor"][data-channel="flaky/z"]').first();
    await row.waitFor({ timeout: 20_000 });
    const text = await row.textContent();
    assert.match(text ?? "", /restarted after failure \d+ \(backoff \d+ ms\)/);
    assert.match(text ?? "", "kernel bug on 666");
    assert.is(await row.getAttribute("data-severity"), "3", "an actor restarted is severity 3");
    assert.ok(logs.some((l) => l.includes("restarting in")), logs.join("\n"));
    await page.close();
  } finally {
    await host.stop();
  }
});

test("an anomaly row says outside only outside the band, names the view that scored it, with watch's severity, and a date when not today", async () => {
  const bus = dash.bus;
  const page = await dash.open();
  const todayUs = Date.now() * 1000;
  const longAgoUs = Date.UTC(2020, 0, 2, 2, 30) * 1000;
  const events = [
    { channel: "IN", ts: longAgoUs, value: 418.74, lower: 396.95, upper: 427.43, score: 0.62 },
    { channel: "OUT", ts: todayUs, value: 440.5, lower: 396.95, upper: 427.43, score: 0.97 },
    {
      channel: "PEAK",
      ts: todayUs,
      value: 418.74,
      lower: 396.95,
      upper: 427.43,
      score: 0.8,
      view: "time_of_day",
    },
  ];
  const bytes = events.map(({ ts, ...body }, i) =>
    encodeEnvelope({
      id: `a${i}`,
      type: "anomaly",
      src: "test",
      ts,
      body: { ...body, expected: 412.19 },
    })
  );
  bytes.forEach((b, i) => bus.publish(findingSubject("anomaly", events[i]!.channel), b));
  await bus.flush();
  const rowOf = (channel: string) =>
    page.locator(`#events li[data-kind="anomaly"][data-channel="${channel}"]`).first();
  await rowOf("OUT").waitFor({ timeout: 20_000 });
  await rowOf("IN").waitFor({ timeout: 20_000 });
  await rowOf("PEAK").waitFor({ timeout: 20_000 });
  const inside = (await rowOf("IN").textContent()) ?? "";
  const outside = (await rowOf("OUT").textContent()) ?? "";
  assert.not.match(inside, "outside");
  assert.not.match(inside, "above the band");
  assert.match(inside, "inside the band (scored by another view", "an event without its view");
  assert.match(
    (await rowOf("PEAK").textContent()) ?? "",
    "inside the band: a time-of-day pattern this hour has not shown",
  );
  assert.match(inside, /^2020-01-02 02:30:00\.000 /, "another day's event shows its date");
  assert.match(outside, "above the band");
  assert.match(outside, /^\d\d:\d\d:\d\d\.\d\d\d /, "today's shows its time only");
  // The same severity as troupe watch's finding (collab/findings/finding.ts).
  const watched = bytes.map((b, i) =>
    findingsOf(outSubject("anomaly", events[i]!.channel), b, 0)[0]!.severity
  );
  assert.equal(watched, [2, 5, 4]);
  assert.is(await rowOf("IN").getAttribute("data-severity"), "2");
  assert.is(await rowOf("OUT").getAttribute("data-severity"), "5");
  await page.close();
});

test("a user's kind's finding appears in the event list as troupe watch reads it, with its kind in the filter", async () => {
  // The server's process knows the kind's findings, as troupe up's does with --kinds.
  await import("../../examples/spread/spread.ts");
  const bus = dash.bus;
  const page = await dash.open();
  const ts = Date.now() * 1000;
  const bytes = encodeEnvelope({
    id: "sb1",
    type: "spread_break",
    src: "test",
    ts,
    body: { pair: "SYM001-SYM002", spread: 0.25, mean: 0.01, z: -9 },
  });
  bus.publish(findingSubject("spread_break", "SYM001-SYM002"), bytes);
  await bus.flush();
  const row = page.locator('#events li[data-kind="spread_break"][data-channel="SYM001-SYM002"]')
    .first();
  await row.waitFor({ timeout: 20_000 });
  const watched = findingsOf(findingSubject("spread_break", "SYM001-SYM002"), bytes, 0)[0]!;
  assert.is(watched.severity, 4);
  assert.is(await row.getAttribute("data-severity"), "4");
  assert.match((await row.textContent()) ?? "", "spread 0.25, mean 0.01  [severity 4, z -9 sd]");
  const options = await page.locator("#event-kind option").allTextContents();
  assert.ok(options.includes("spread_break"), options.join(", "));
  await page.close();
});

if (run) test.run();
