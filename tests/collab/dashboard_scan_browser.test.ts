/**
 * The dashboard's scan panel in a real browser: a real scan service and worker (over an in-process
 * bus, on a synthetic universe of bars) behind the scan API on its own HTTP server, reached through
 * the collab server's `/api/*` proxy; the page starts a scan, its results stream into the table
 * over Server-Sent Events, the table sorts, the statistics end as done. A viewer may run one too
 * (a scan writes nothing shared), and every panel that writes to the session tells a viewer it is
 * read-only. Ranks read as four significant digits, never `51.790366990192176`.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "node:http";
import { InProcessBus } from "../../actors/runtime/mod.ts";
import { scanHttp, ScanService, ScanWorker } from "../../actors/scan/mod.ts";
import { launchCollab } from "../../collab/mod.ts";
import { CRITERIA, expected, RANK, source, universe } from "../actors/scan/_scan_setup.ts";
import { haveBrowser, launchBrowser } from "../_support/browser.ts";
import { tempDir } from "../_support/nats.ts";
import { tokenFor } from "./_support.ts";

const NAME = "dashboard scan panel in the browser";
const run = haveBrowser(NAME);
const test = suite(NAME);

test("an editor's scan streams every match into the table, which sorts by rank; a viewer runs one too", async () => {
  const u = universe(300, 3);
  const want = expected(u);
  const bus = new InProcessBus();
  let n = 0;
  const service = new ScanService({
    bus,
    bars: source(u),
    chunk_symbols: 25,
    inflight_max: 2,
    newId: () => `scan${++n}`,
  });
  await service.start();
  const worker = new ScanWorker({ bus, bars: source(u), id: "w" });
  worker.start();
  const api = scanHttp(service);
  const scanServer: Server = createServer(async (req, res) => {
    if (!(await api.handle(req, res))) {
      res.writeHead(404);
      res.end("not a scan route");
    }
  });
  await new Promise<void>((r) => scanServer.listen(0, "127.0.0.1", () => r()));
  const scanUrl = `http://127.0.0.1:${(scanServer.address() as { port: number }).port}`;
  const dir = tempDir("troupe-dash-scan-");
  const collab = await launchCollab({ dataDir: dir.path, scanUrl });
  const browser = await launchBrowser();
  try {
    const base = `http://127.0.0.1:${collab.server.port}`;
    const editor = await browser.newPage();
    const errors: string[] = [];
    editor.on("pageerror", (e) => errors.push(e.message));
    await editor.goto(`${base}/?session=ops&token=${await tokenFor(dir.path, "ops", "editor")}`);
    await editor.waitForSelector("#collab-status.up", { timeout: 15_000 });
    await editor.fill("#scan input[name=criteria]", CRITERIA);
    await editor.fill("#scan input[name=rank]", RANK);
    await editor.click("#scan button[name=start-scan]");
    await editor.waitForFunction(
      () => document.getElementById("scan-stats")?.textContent?.startsWith("done"),
      null,
      { timeout: 30_000 },
    ).catch(async (err) => {
      throw new Error(
        `The scan did not end: stats "${await editor.textContent("#scan-stats")}", ` +
          `${await editor.$$eval("#scan tbody tr", (rs) => rs.length)} rows`,
        { cause: err },
      );
    });
    assert.match(await editor.textContent("#scan-stats") ?? "", "300/300 symbols");
    await editor.waitForFunction(
      (k) => document.querySelectorAll("#scan tbody tr").length === k,
      want.size,
      { timeout: 5000 },
    );
    const symbols = await editor.$$eval("#scan tbody tr", (rs) => rs.map((r) => r.dataset.symbol));
    assert.equal(symbols.sort(), [...want.keys()].sort());
    // Sorting by rank: ascending, then descending on a second click.
    await editor.click('#scan th[data-sort="rank"]');
    const ranks = () =>
      editor.$$eval(
        "#scan tbody tr",
        (rs) => rs.map((r) => Number((r.children[2] as HTMLElement).dataset.value)),
      );
    const up = await ranks();
    assert.equal(up, [...up].sort((a, b) => a - b));
    await editor.click('#scan th[data-sort="rank"]');
    const down = await ranks();
    assert.equal(down, [...up].reverse());
    assert.ok(!(await editor.isDisabled("#scan button[name=start-scan]")));
    assert.equal(errors, []);

    const viewer = await browser.newPage();
    await viewer.goto(`${base}/?session=ops&token=${await tokenFor(dir.path, "ops", "viewer")}`);
    await viewer.waitForSelector("#collab-status.up", { timeout: 15_000 });
    for (const panel of ["thresholds", "checklist", "annotations"]) {
      assert.is(
        await viewer.textContent(`#${panel} .readonly-note`),
        "read-only: you are a viewer",
        panel,
      );
    }
    assert.match(await viewer.textContent("#scan .readonly-note") ?? "", "viewers may run one");
    assert.ok(!(await viewer.isDisabled("#scan button[name=start-scan]")));
    await viewer.fill("#scan input[name=criteria]", CRITERIA);
    await viewer.fill("#scan input[name=rank]", RANK);
    await viewer.click("#scan button[name=start-scan]");
    await viewer.waitForFunction(
      () => document.getElementById("scan-stats")?.textContent?.startsWith("done"),
      null,
      { timeout: 30_000 },
    );
    await viewer.waitForFunction(
      (k) => document.querySelectorAll("#scan tbody tr").length === k,
      want.size,
      { timeout: 5000 },
    );
    const cells = await viewer.$$eval(
      "#scan tbody tr",
      (rs) =>
        rs.map((r) => [r.children[2]!.textContent, (r.children[2] as HTMLElement).dataset.value]),
    );
    for (const [shown, exact] of cells) {
      assert.ok((shown ?? "").length <= 9, `rank shown as ${shown}`);
      assert.is(Number(shown), Number(Number(exact).toPrecision(4)), `${shown} for ${exact}`);
    }
  } finally {
    await browser.cleanup();
    await collab.close();
    api.close();
    worker.stop();
    service.close();
    scanServer.closeAllConnections();
    await new Promise((r) => scanServer.close(r));
    await bus.close();
    dir.remove();
  }
});

if (run) test.run();
