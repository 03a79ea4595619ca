/**
 * The dashboard's HTTP side on a real collab server: the page and its bundle (built in memory,
 * cached, with an ETag), and the `/api/*` proxy: token checked (401), a scan's release refused
 * to viewers (403, while they may start one), 503 without a scan service, and otherwise forwarded with the prefix, token and session
 * taken off, streaming (a real upstream HTTP server answers).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { join } from "node:path";
import { launchCollab } from "../../collab/mod.ts";
import { dashboardBundle } from "../../collab/web/mod.ts";
import { prebuiltBundle, writeDashboardBundle } from "../../collab/web/bundle.ts";
import { tempDir } from "../_support/nats.ts";
import { tokenFor } from "./_support.ts";

const test = suite("dashboard over HTTP");

/** An upstream that answers every request with what it received, and streams on /events/. */
async function upstream(): Promise<{ server: Server; url: string; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d));
    req.on("end", () => {
      seen.push(`${req.method} ${req.url} ${body}`);
      if (req.url?.startsWith("/events/")) {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write("event: result\ndata: 1\n\n");
        setTimeout(() => res.end("event: end\ndata: {}\n\n"), 50);
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ method: req.method, url: req.url, body }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return { server, url: `http://127.0.0.1:${port}`, seen };
}

test("a prebuilt bundle written by the package build is read back as written, and served as it is", async () => {
  const dir = tempDir("troupe-dash-prebuilt-");
  try {
    assert.is(prebuiltBundle(dir.path), undefined, "no files: none");
    const written = await writeDashboardBundle(dir.path);
    assert.is(written.prebuilt, false);
    const read = await prebuiltBundle(dir.path)!;
    assert.is(read.prebuilt, true);
    assert.equal([read.js, read.worker, read.css], [written.js, written.worker, written.css]);
    assert.match(read.etag, /^"[0-9a-f]{16}"$/);
    // In the repository the bundle is built here: no prebuilt files beside the sources.
    assert.is((await dashboardBundle()).prebuilt, false);
  } finally {
    dir.remove();
  }
});

test("serves the page, the bundle and the live-plot worker's with an ETag (304 when unchanged), and 404 elsewhere", async () => {
  const dir = tempDir("troupe-dash-http-");
  const collab = await launchCollab({ dataDir: dir.path });
  const base = `http://127.0.0.1:${collab.server.port}`;
  try {
    const page = await fetch(`${base}/?session=s&token=t`);
    assert.is(page.status, 200);
    const html = await page.text();
    assert.match(html, '<script type="module" src="/dashboard.js">');
    assert.match(html, 'id="charts"');
    const js = await fetch(`${base}/dashboard.js`);
    assert.is(js.status, 200);
    assert.match(js.headers.get("content-type") ?? "", "javascript");
    const text = await js.text();
    const bundle = await dashboardBundle();
    assert.is(text.length, new TextDecoder().decode(bundle.js).length);
    assert.ok(text.length > 50_000, `a bundle of ${text.length} bytes holds uPlot and Yjs`);
    assert.not.match(text, 'from "node:', "no Node import reaches the browser");
    const worker = await fetch(`${base}/dashboard_worker.js`);
    assert.is(worker.status, 200);
    assert.match(worker.headers.get("content-type") ?? "", "javascript");
    const workerText = await worker.text();
    assert.is(workerText, new TextDecoder().decode(bundle.worker));
    assert.match(workerText, "requestAnimationFrame", "the worker draws on its own frames");
    assert.not.match(workerText, "uPlot", "the worker's bundle holds no uPlot");
    const css = await fetch(`${base}/dashboard.css`);
    assert.match(await css.text(), ".uplot");
    const again = await fetch(`${base}/dashboard.js`, {
      headers: { "if-none-match": js.headers.get("etag")! },
    });
    assert.is(again.status, 304);
    await again.body?.cancel();
    const missing = await fetch(`${base}/nothing-here`);
    assert.is(missing.status, 404);
    await missing.body?.cancel();
  } finally {
    await collab.close();
    dir.remove();
  }
});

test("/api/* checks the token, refuses a viewer's writes, answers 503 without a scan service, and forwards otherwise, streaming", async () => {
  const dir = tempDir("troupe-dash-api-");
  const up = await upstream();
  const bare = await launchCollab({ dataDir: join(dir.path, "bare") });
  const collab = await launchCollab({ dataDir: join(dir.path, "c"), scanUrl: up.url });
  const base = `http://127.0.0.1:${collab.server.port}`;
  const editor = await tokenFor(join(dir.path, "c"), "ops", "editor");
  const viewer = await tokenFor(join(dir.path, "c"), "ops", "viewer");
  const q = (token: string) => `session=ops&token=${encodeURIComponent(token)}`;
  try {
    const none = await fetch(`http://127.0.0.1:${bare.server.port}/api/scan/stats/x?${q(editor)}`);
    assert.is(none.status, 503);
    assert.match(await none.text(), /runs no bars .* no scan URL \(scanUrl\)/);

    const noToken = await fetch(`${base}/api/scan/stats/x?session=ops`);
    assert.is(noToken.status, 401);
    assert.match(await noToken.text(), "No token");
    const otherSession = await fetch(`${base}/api/scan/stats/x?session=other&token=${editor}`);
    assert.is(otherSession.status, 401);
    await otherSession.body?.cancel();

    const release = await fetch(`${base}/api/scan/abc?${q(viewer)}`, { method: "DELETE" });
    assert.is(release.status, 403);
    assert.match(await release.text(), "viewer may not DELETE");
    assert.is(up.seen.length, 0, "nothing refused reached the scan service");
    // A scan writes nothing shared: a viewer may start one.
    const viewerScan = await fetch(`${base}/api/scan/stream?${q(viewer)}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.is(viewerScan.status, 200);
    assert.is((await viewerScan.json()).url, "/scan/stream");
    up.seen.length = 0;

    const read = await fetch(`${base}/api/scan/stats/abc?${q(viewer)}&x=1`);
    assert.is(read.status, 200);
    assert.equal(await read.json(), { method: "GET", url: "/scan/stats/abc?x=1", body: "" });
    const start = await fetch(`${base}/api/scan/stream?${q(editor)}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"criteria":"close > 1"}',
    });
    assert.equal(await start.json(), {
      method: "POST",
      url: "/scan/stream",
      body: '{"criteria":"close > 1"}',
    });
    const sse = await fetch(`${base}/api/events/results/abc?${q(viewer)}`);
    assert.match(sse.headers.get("content-type") ?? "", "text/event-stream");
    const events = await sse.text();
    assert.match(events, "event: result");
    assert.match(events, "event: end");
  } finally {
    await collab.close();
    await bare.close();
    await new Promise((r) => up.server.close(r));
    dir.remove();
  }
});

// Plain HTTP, no WebSocket upgrade: this runs on Deno too (the bundle builds there as well).
test.run();
