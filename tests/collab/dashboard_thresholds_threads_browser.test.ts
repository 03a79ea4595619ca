/**
 * The Thresholds panel against a host on two worker threads (issue 31 item 5: it shows what the
 * hosts apply, from their replies). Each thread applies and answers a kind-wide change for its own
 * instances and reports its own settings: the row's answer says every instance and both threads,
 * and what is applied is reported by both, in a real browser against a real nats-server, threaded
 * host and collab server.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { defaultHostConfig, ThreadedHost } from "../../actors/runtime/mod.ts";
import { encodeFrame, feedSubject } from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { openDashboard, waitFor } from "./_support.ts";
import { ACTOR_KINDS_MODULE } from "../../actors/mod.ts";

const NAME = "dashboard thresholds: a threaded host";
const run = haveBrowser(NAME) && haveNatsServer(NAME);
const test = suite(NAME);
const CHANNELS = 8;
const row = (key: string) => `#thresholds tr[data-key="${key}"]`;

test("a kind-wide change set on the page is answered by both threads: the row names both and their instances summed", async () => {
  let host: ThreadedHost | undefined;
  const dash = await openDashboard({
    name: "threads",
    collab: { bridge: true },
    before: async (natsUrl, dir) => {
      const config = defaultHostConfig();
      config.host_id = "bt";
      config.nats = natsUrl;
      config.data_dir = join(dir, "host");
      config.input = "core";
      config.partitions = { count: 4, owned: [0, 1, 2, 3] };
      config.actors = { stats: { every_samples: 1 } };
      host = await ThreadedHost.start(config, 2, { kinds: ACTOR_KINDS_MODULE, log: () => {} });
      return host;
    },
  });
  try {
    for (let i = 0; i < CHANNELS; i++) {
      const channel = `k${i}`;
      dash.bus.publish(
        feedSubject("test", channel),
        encodeFrame({
          channel,
          seq0: 0,
          t: Float64Array.of(1_700_000_000_000_000),
          v: Float64Array.of(i),
        }, { id: `f${i}`, src: "test" }),
      );
    }
    await waitFor(() => host!.applied("stats") === CHANNELS, 10_000, "every channel applied");
    assert.ok(host!.applied("stats", 0) > 0 && host!.applied("stats", 1) > 0, "both threads own");
    const page = await dash.open({ role: "editor", waitFor: "#collab-status.up" });
    await page.selectOption('#thresholds select[name="kind"]', "stats");
    await page.fill('#thresholds input[name="field"]', "every_samples");
    await page.fill('#thresholds input[name="value"]', "5");
    await page.click('#thresholds button[name="set"]');
    await page.waitForSelector(`${row("stats")} td.status.ok`, { timeout: 8_000 });
    assert.is(
      await page.getAttribute(`${row("stats")} td.status`, "title"),
      `applied to ${CHANNELS} running stats instance(s) and the configuration of those to come ` +
        "on bt-t0, bt-t1",
    );
    await page.waitForFunction(
      (sel) => document.querySelector(sel)?.getAttribute("title") === "reported by bt-t0, bt-t1",
      `${row("stats")} td.applied`,
      { timeout: 5_000 },
    );
    assert.is(await page.textContent(`${row("stats")} td.applied`), '{"every_samples":5}');
  } finally {
    await dash.close();
  }
});

if (run) test.run();
