/**
 * The Thresholds panel's answer column in a real browser: a host's refusal can be long (it names
 * the field, the value and the bounds), and it must wrap inside the panel, not run past its edge
 * where it was cut (issue 31).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type * as Y from "yjs";
import { launchCollab, type SessionDoc } from "../../collab/mod.ts";
import { haveBrowser, launchBrowser } from "../_support/browser.ts";
import { tempDir } from "../_support/nats.ts";
import { tokenFor } from "./_support.ts";

const NAME = "dashboard thresholds panel in the browser";
const run = haveBrowser(NAME);
const test = suite(NAME);

interface PageTroupe {
  troupe: { link: { sdoc: SessionDoc } };
}

test("a long refusal wraps inside the Thresholds panel", async () => {
  const dir = tempDir("troupe-dash-thresholds-");
  const collab = await launchCollab({ dataDir: dir.path });
  const browser = await launchBrowser({ width: 1600, height: 1000 });
  try {
    const page = await browser.newPage();
    const token = await tokenFor(dir.path, "ops", "editor");
    await page.goto(`http://127.0.0.1:${collab.server.port}/?session=ops&token=${token}`);
    await page.waitForSelector("#collab-status.up", { timeout: 15_000 });
    const reason = 'Control field "threshold" of anomaly/SYM001 must be a number in 0..1, ' +
      "got 1.5 (anomaly.threshold: the score above which an incident opens; see troupe ctl)";
    // What the bridge writes when a host refuses a change.
    await page.evaluate((why) => {
      const sdoc = (globalThis as unknown as PageTroupe).troupe.link.sdoc;
      sdoc.setThreshold("anomaly", "SYM001", { threshold: 1.5 }, "ed");
      const entry = sdoc.thresholds.get("anomaly/SYM001") as unknown as Y.Map<unknown>;
      entry.doc!.transact(() => {
        entry.set("status", "error");
        entry.set("reason", why);
      });
    }, reason);
    const cell = '#thresholds tr[data-key="anomaly/SYM001"] td.status';
    await page.waitForSelector(`${cell}.error`, { timeout: 5_000 });
    const box = await page.$eval(cell, (td) => {
      const section = td.closest("section")!;
      const c = td.getBoundingClientRect(), s = section.getBoundingClientRect();
      return {
        cellRight: c.right,
        sectionRight: s.right,
        scroll: section.scrollWidth,
        client: section.clientWidth,
      };
    });
    assert.ok(box.cellRight <= box.sectionRight, JSON.stringify(box));
    assert.ok(box.scroll <= box.client, `the panel scrolls sideways: ${JSON.stringify(box)}`);
    assert.match(await page.textContent(cell) ?? "", "see troupe ctl");
  } finally {
    await browser.cleanup();
    await collab.close();
    dir.remove();
  }
});

if (run) test.run();
