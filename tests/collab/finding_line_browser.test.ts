/**
 * One text per finding and per incident, end to end: the same messages, published on a real
 * nats-server, reach `troupe watch` (a real CLI process) and the dashboard in headless Chromium
 * through one stream gateway, and the page's event list and incidents panel show exactly the lines
 * watch prints. The events are of another day, so that the page gives their date as watch does
 * (for today's it gives the time of day alone: tests/collab/dashboard_events_browser.test.ts).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Page } from "playwright-core";
import {
  dlqSubject,
  encodeEnvelope,
  encodeEventEnvelope,
  encodeIncident,
  findingSubject,
  type Incident,
  incidentSubject,
  sysSubject,
} from "../../protocol/mod.ts";
import { haveBrowser, launchBrowser } from "../_support/browser.ts";
import { startTroupe } from "../_support/cli.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { waitFor } from "./_support.ts";
import { type GatewayEnv, withGateway } from "./_stream_support.ts";

const NAME = "one line per finding, in troupe watch and on the page";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);
/** 2020-01-02 02:30 UTC, µs: not today. */
const TS = Date.UTC(2020, 0, 2, 2, 30) * 1000;

/** One finding of each kind the page lists, on the subjects the actors and hosts use. */
function findings(): Array<[string, Uint8Array]> {
  const meta = (id: string, type: string, ts: number) => ({ id, type, src: "t", ts });
  return [
    [
      findingSubject("anomaly", "BTC"),
      encodeEventEnvelope(meta("a1", "anomaly", TS), {
        channel: "BTC",
        score: 0.97,
        value: 440.5,
        expected: 412.19,
        lower: 396.95,
        upper: 427.43,
      }),
    ],
    [
      findingSubject("collapse", "ETH"),
      encodeEventEnvelope(meta("c1", "collapse", TS + 1000), {
        channel: "ETH",
        change_ts: TS - 1_000_000,
        change_index: 3,
        delay_samples: 4,
        mean_before: 10,
        mean_after: 20,
        level_before: 10,
        level_after: 20,
        spread_before: 2,
        spread_after: 2,
        direction: "up",
        severity: 4,
      }),
    ],
    [
      dlqSubject("decode"),
      encodeEnvelope({
        ...meta("d1", "dead_letter", TS + 2000),
        body: {
          subject: "x.y",
          reason: "decode",
          error: "field t is short",
          raw: new Uint8Array(2),
        },
      }),
    ],
    [
      sysSubject("actor", "stopped"),
      encodeEnvelope({
        ...meta("s1", "actor_stopped", TS + 3000),
        body: { stream: "stats/BTC", error: "kernel bug" },
      }),
    ],
  ];
}

/** A firing incident of two channels, as the incident stage publishes it when it opens. */
function incident(): Incident {
  const member = (channel: string, first_us: number) => ({
    channel,
    first_us,
    last_us: first_us,
    findings: 1,
    peak_severity: 5,
  });
  return {
    id: `anomaly-${TS}-BTC`,
    kind: "anomaly",
    state: "firing",
    fired: true,
    silenced: false,
    members: [member("BTC", TS), member("ETH", TS + 1000)],
    first_us: TS,
    last_us: TS + 1000,
    first_finding: "a1",
    last_finding: "a2",
    findings: 2,
    peak_severity: 5,
    links: [],
  };
}

async function openPage(env: GatewayEnv, page: Page): Promise<void> {
  await page.goto(`http://127.0.0.1:${env.port}/?session=main&token=${env.token}&backfill=0`);
  await page.waitForSelector("body[data-stream-subscribed]", { timeout: 20_000 });
}

/**
 * Runs `troupe watch ARGS` until it has printed `count` lines, publishing `send` once it holds its
 * `subs` subscriptions at the gateway.
 */
async function watchLines(
  env: GatewayEnv,
  args: string[],
  { count, subs }: { count: number; subs: number },
  send: () => void,
): Promise<string[]> {
  const before = env.collab.stream!.stats().subscriptions;
  const watch = startTroupe([
    "watch",
    "--url",
    env.url,
    "--token",
    env.token,
    "--count",
    String(count),
    ...args,
  ]);
  try {
    await waitFor(
      () => env.collab.stream!.stats().subscriptions === before + subs,
      30_000,
      "watch to subscribe",
    );
    send();
    await env.pub.flush();
    // Bounded: findings that never reach watch fail the test, with what it printed, not hang it.
    assert.is(await watch.exitCode(30_000), 0, watch.output());
    return watch.output().trimEnd().split("\n");
  } finally {
    watch.signal("SIGKILL"); // moot once it exited
  }
}

test("the page's event list and incidents panel show the lines troupe watch prints", async () => {
  await withGateway(async (env) => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await openPage(env, page);
      const sent = findings();
      // --findings subscribes twice: the kinds whose subjects end in a channel, and the others.
      const watched = await watchLines(env, ["--findings"], { count: 4, subs: 2 }, () => {
        for (const [subject, data] of sent) env.pub.publish(subject, data);
      });
      await page.waitForFunction(
        (n) => document.querySelectorAll("#events li").length >= n,
        sent.length,
        { timeout: 20_000 },
      );
      const shown = await page.$$eval("#events li", (rows) => rows.map((r) => r.textContent));
      assert.equal([...shown].sort(), [...watched].sort());
      assert.is(watched.length, 4, watched.join("\n"));
      assert.match(watched.join("\n"), "2020-01-02 02:30:00.000  anomaly   BTC");

      const [line] = await watchLines(env, [], { count: 1, subs: 1 }, () => {
        const i = incident();
        env.pub.publish(
          incidentSubject("anomaly"),
          encodeIncident({ id: "i1", src: "t", ts: i.first_us }, i),
        );
      });
      const row = "#incidents li.incident";
      await page.waitForSelector(row, { timeout: 20_000 });
      assert.is(await page.textContent(row), line);
      assert.match(line!, /^2020-01-02 02:30:00\.000 {2}firing +anomaly +2 channels: BTC, ETH/);
    } finally {
      await browser.cleanup();
    }
  });
});

if (run) test.run();
