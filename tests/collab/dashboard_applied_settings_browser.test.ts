/**
 * The Thresholds panel tells the truth about what the hosts apply (issue 31 item 5), in a real
 * browser against a real nats-server, host and collab server: a change made with `troupe ctl`
 * after the page set a threshold shows as what is applied, not the page's stale `ok`; and a page
 * opened on a session after a per-channel `troupe ctl` change learns it from the hosts' report.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import { defaultHostConfig, launchHost } from "../../actors/runtime/mod.ts";
import { encodeFrame, feedSubject } from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { runTroupe } from "../_support/cli.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { openDashboard, waitFor } from "./_support.ts";

const NAME = "dashboard thresholds: what the hosts apply";
const run = haveBrowser(NAME) && haveNatsServer(NAME);
const test = suite(NAME);

const row = (key: string) => `#thresholds tr[data-key="${key}"]`;

test("after troupe ctl changes a threshold the panel shows the applied value, and a page opened later learns a channel's", async () => {
  let host: Awaited<ReturnType<typeof launchHost>> | undefined;
  // The host first, so that the collab server finds it; the bridge sends the page's changes.
  const dash = await openDashboard({
    name: "applied",
    collab: { bridge: true },
    before: async (natsUrl, dir) => {
      const config = defaultHostConfig();
      config.host_id = "h1";
      config.nats = natsUrl;
      config.data_dir = join(dir, "host");
      config.input = "core";
      config.actors = { anomaly: {} };
      host = await launchHost(config, ACTOR_KINDS, { log: () => {} });
      return host;
    },
  });
  const feed = dash.bus, natsUrl = dash.natsUrl;
  try {
    feed.publish(
      feedSubject("test", "c1"),
      encodeFrame({
        channel: "c1",
        seq0: 0,
        t: new Float64Array([1_700_000_000_000_000]),
        v: new Float64Array([1]),
      }, { id: "f1", src: "test" }),
    );
    await waitFor(() => host!.host.instance("anomaly", "c1") !== undefined, 5000, "anomaly/c1");
    const page = await dash.open({
      role: "editor",
      backfill: true,
      waitFor: "#collab-status.up",
      timeoutMs: 15_000,
    });
    await page.fill('#thresholds input[name="value"]', "0.8");
    await page.click('#thresholds button[name="set"]');
    await page.waitForSelector(`${row("anomaly")} td.status.ok`, { timeout: 5_000 });
    await page.waitForFunction(
      (sel) => document.querySelector(sel)?.textContent === '{"threshold":0.8}',
      `${row("anomaly")} td.applied`,
      { timeout: 5_000 },
    );

    const ctl = await runTroupe(["ctl", "anomaly", "--set", "threshold=0.5", "--nats", natsUrl]);
    assert.is(ctl.code, 0, ctl.stderr);
    await page.waitForSelector(`${row("anomaly")} td.status.differs`, { timeout: 5_000 });
    assert.is(await page.textContent(`${row("anomaly")} td.applied`), '{"threshold":0.5}');
    assert.is(await page.textContent(`${row("anomaly")} td.settings`), '{"threshold":0.8}');
    assert.is(
      await page.textContent(`${row("anomaly")} td.status`),
      "differs: the hosts apply threshold=0.5",
    );

    // One channel changed while no page of session "late" is open: its first page learns it.
    const one = await runTroupe([
      "ctl",
      "anomaly",
      "--key",
      "c1",
      "--set",
      "threshold=0.3",
      "--nats",
      natsUrl,
    ]);
    assert.is(one.code, 0, one.stderr);
    const late = await dash.open({ session: "late", backfill: true, waitFor: "body" });
    await late.waitForSelector(`${row("anomaly/c1")} td.applied`, { timeout: 10_000 });
    assert.is(await late.textContent(`${row("anomaly/c1")} td.applied`), '{"threshold":0.3}');
    // The kind's own defaults are no row on a session where nobody asked about them.
    assert.is(await late.$(row("anomaly")), null);
  } finally {
    await dash.close();
  }
});

if (run) test.run();
