/**
 * The incidents panel of an editor in a real browser, over a real nats-server and collab server,
 * with thirty incidents of six channels each (long lines): a row shows its whole line, never cut,
 * so that an ack visibly changes it; the ack button asks for an optional note, which the row then
 * says; and, the list being long, the silence form's refusal and the silences list are in the
 * panel's view without the user scrolling its inner scroll (before, they sat below thirty rows).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Page } from "playwright-core";
import { encodeIncident, incidentSubject } from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { openDashboard } from "./_support.ts";

const NAME = "dashboard incident rows in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

/** A firing incident `n` of six channels, as the stage publishes it. */
function incident(n: number, nowUs: number): Uint8Array {
  const first = nowUs - (60 - n) * 1_000_000, last = first + 500_000;
  const members = Array.from({ length: 6 }, (_, k) => ({
    channel: `SERVICE_${n}_${k}-latency_ms`,
    first_us: first,
    last_us: last,
    findings: 1,
    peak_severity: 5,
  }));
  const id = `anomaly-${first}-SERVICE_${n}_0-latency_ms`;
  return encodeIncident({ id: `${id}:1`, src: "test", ts: last }, {
    id,
    kind: "anomaly",
    state: "firing",
    fired: true,
    silenced: false,
    members,
    first_us: first,
    last_us: last,
    first_finding: "f-1",
    last_finding: "f-6",
    findings: 6,
    peak_severity: 5,
    links: [],
  });
}

/** Whether `selector`'s first element is whole inside the panel's visible box and the window. */
function inView(page: Page, selector: string): Promise<boolean> {
  return page.$eval(selector, (e) => {
    const r = e.getBoundingClientRect(),
      box = document.getElementById("incidents")!
        .getBoundingClientRect();
    return r.height > 0 && r.top >= box.top - 1 && r.bottom <= box.bottom + 1 && r.top >= 0 &&
      r.bottom <= innerHeight + 1;
  });
}

test("a row's whole line, an ack with a note it then says, the form's error and silences in view", async () => {
  const dash = await openDashboard({ name: "incident-rows" });
  try {
    const page = await dash.open({ role: "editor" });
    const now = Date.now() * 1000;
    for (let n = 0; n < 30; n++) dash.bus.publish(incidentSubject("anomaly"), incident(n, now));
    await dash.bus.flush();
    const rows = "#incidents li.incident";
    await page.waitForFunction(
      (s) => document.querySelectorAll(s).length === 30,
      rows,
      { timeout: 20_000 },
    );
    const row = `${rows} >> nth=0`;
    const cut = () =>
      page.locator(`${rows} .line`).first().evaluate((e) => e.scrollHeight > e.clientHeight + 1);
    assert.is(await cut(), false, "the line is shown whole");

    // The ack asks for a note, and the row says it.
    await page.locator(row).locator("button.ack").click();
    const note = page.locator(`${rows} input[name=ack-note]`);
    await note.waitFor({ state: "visible", timeout: 2_000 });
    assert.is(await page.locator(row).getAttribute("data-acked"), "0", "not before the note");
    await note.fill("on it");
    await note.press("Enter");
    await page.waitForSelector(`${rows}[data-acked="1"]`, { timeout: 5_000 });
    const line = (await page.locator(`${rows} .line`).first().textContent())!;
    assert.match(line, /\(acked by \S+ \(on it\)\)$/);
    assert.is(await cut(), false, "the line and its ack shown whole");
    assert.is(await page.locator(`${rows} input[name=ack-note]`).count(), 0);

    // The silence form, from the first row: its refusal is in view, then the silence added.
    await page.locator(row).locator("button.silence").click();
    const form = "#incidents form.silence-form";
    await page.fill(`${form} input[name=duration]`, "-5m");
    await page.fill(`${form} input[name=reason]`, "maintenance");
    await page.click(`${form} button[name=add-silence]`);
    await page.waitForSelector(`${form} .error[data-field=duration]`, { timeout: 5_000 });
    assert.ok(await inView(page, `${form} .error`), "the form's error is in view");
    await page.fill(`${form} input[name=duration]`, "30m");
    await page.click(`${form} button[name=add-silence]`);
    await page.waitForSelector("#incidents .silence-list li", { timeout: 5_000 });
    assert.ok(await inView(page, "#incidents .silence-list li"), "the silence listed is in view");
  } finally {
    await dash.close();
  }
});

if (run) test.run();
