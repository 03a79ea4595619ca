/**
 * The dashboard when its token expires, in headless Chromium on pages served by a real collab
 * server with its stream gateway (a real nats-server): a page whose token expires while it is open
 * says so on both links, freezes its editing controls and does not reconnect (the server closes
 * both sockets with 4401; a reconnect would be refused with 401 and counted); a page opened with a
 * token already expired connects to nothing and says so at once.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Page } from "playwright-core";
import { launchCollab, type LaunchedCollab, loadKeyring, mintToken } from "../../collab/mod.ts";
import { haveBrowser, launchBrowser } from "../_support/browser.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { getText, tokenFor } from "./_support.ts";

const NAME = "dashboard token expiry in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);
const SESSION = "ops";

/**
 * How long the tests watch for a reconnect after the page went offline: longer than the first
 * retry of either link (y-websocket's is 100-200 ms after a close, at most the page's 2 s backoff;
 * the stream client's 250 ms), so that a page that reconnects shows it here.
 */
const RECONNECT_WATCH_MS = 3000;

/** The controls that write to the session (or, for the scan, act with the page's token). */
const WRITING_CONTROLS = [
  "#thresholds button[name=set]",
  "#thresholds input[name=value]",
  "#checklist input[name=step]",
  "#checklist button[name=add-step]",
  "#annotations input[name=note]",
  "#annotations button[name=annotate]",
  "#scan button[name=start-scan]",
];

interface World {
  nats: Awaited<ReturnType<typeof startTestNats>>;
  dir: ReturnType<typeof tempDir>;
  collab: LaunchedCollab;
  browser: Awaited<ReturnType<typeof launchBrowser>>;
  base: string;
}
let w: World;

/** Upgrades refused for an expired token by the server at `base`: collab and stream gateway. */
async function expiredRefusals(base = w.base): Promise<{ collab: number; stream: number }> {
  const text = await getText(`${base}/metrics`);
  const count = (name: string) => {
    const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(`"expired"`));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
  };
  return {
    collab: count("troupe_collab_tokens_rejected_total"),
    stream: count("troupe_stream_refused_total"),
  };
}

/**
 * Waits until both links' statuses say the token expired; fails with what they say instead, the
 * sockets the page opened and, with `base`, what that server refused.
 */
async function waitExpired(
  page: Page,
  sockets: string[],
  options: { timeoutMs: number; base?: string },
): Promise<void> {
  const { timeoutMs, base } = options;
  try {
    await page.waitForFunction(
      () =>
        ["collab-status", "stream-status"].every((id) =>
          document.getElementById(id)?.textContent?.startsWith("token expired at ")
        ),
      null,
      { timeout: timeoutMs },
    );
  } catch (err) {
    const say = async (sel: string) => JSON.stringify(await page.textContent(sel));
    const refused = base === undefined
      ? ""
      : `, expired tokens refused ${JSON.stringify(await expiredRefusals(base))}`;
    throw new Error(
      `The page did not say its token expired within ${timeoutMs} ms: collab ${await say(
        "#collab-status",
      )}, stream ${await say("#stream-status")}, sockets opened ${JSON.stringify(sockets)}` +
        refused,
      { cause: err },
    );
  }
}

/** A page of `url` whose WebSockets are noted (path only), with its errors. */
async function openPage(url: string): Promise<{ page: Page; sockets: string[]; errors: string[] }> {
  const page = await w.browser.newPage();
  const sockets: string[] = [], errors: string[] = [];
  page.on("websocket", (ws) => sockets.push(new URL(ws.url()).pathname));
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  return { page, sockets, errors };
}

test.before(async () => {
  const nats = await startTestNats();
  const dir = tempDir("troupe-dash-expiry-");
  const collab = await launchCollab({ dataDir: dir.path, nats: nats.url, bridge: false });
  const browser = await launchBrowser();
  const base = `http://127.0.0.1:${collab.server.port}`;
  w = { nats, dir, collab, browser, base };
  // The bundle is built on its first request: built now, it does not eat the short token's life.
  await getText(`${base}/dashboard.js`);
});

test.after(async () => {
  await w.browser.cleanup();
  await w.collab.close();
  await w.nats.cleanup();
  w.dir.remove();
});

test("a page whose token expires while open says so on both links, freezes its editing controls and does not reconnect", async () => {
  const before = await expiredRefusals();
  // 8 s: the page must load and connect before the token expires (exp is whole seconds, so it
  // lives 7 to 8 s).
  const token = await tokenFor(w.dir.path, SESSION, "editor", 8);
  const { page, sockets, errors } = await openPage(
    `${w.base}/?session=${SESSION}&token=${token}&name=ed&backfill=0`,
  );
  await page.waitForSelector("#collab-status.up", { timeout: 6000 });
  await page.waitForSelector("body[data-stream-subscribed]", { timeout: 6000 });
  assert.not.match(await page.textContent("#collab-status") ?? "", "expired", "connected in time");
  for (const sel of WRITING_CONTROLS) assert.not.ok(await page.isDisabled(sel), `${sel} enabled`);
  await page.fill("#checklist input[name=step]", "watch the token");
  await page.click("#checklist button[name=add-step]");
  const box = '#checklist li.step:has-text("watch the token") input[type=checkbox]';
  assert.not.ok(await page.isDisabled(box), "the step's checkbox is enabled while connected");

  await waitExpired(page, sockets, { timeoutMs: 20_000, base: w.base });
  const collabText = await page.textContent("#collab-status") ?? "";
  assert.match(
    collabText,
    /^token expired at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z: open the page with a new token \(troupe token --session ops --role editor\)$/,
  );
  assert.is(await page.textContent("#stream-status"), collabText, "both links say the same");
  for (const sel of WRITING_CONTROLS) assert.ok(await page.isDisabled(sel), `${sel} disabled`);
  assert.ok(await page.isDisabled(box), "the step's checkbox is disabled once offline");
  assert.match(await page.textContent("#checklist .offline-note") ?? "", "not saved");

  const opened = sockets.length;
  assert.equal([...sockets].sort(), ["/collab/ops", "/stream"], "one socket per link");
  await page.waitForTimeout(RECONNECT_WATCH_MS);
  assert.is(sockets.length, opened, `no socket opened after the expiry: ${sockets.join(", ")}`);
  assert.equal(await expiredRefusals(), before, "the servers refused no expired token");
  assert.is(await page.textContent("#collab-status"), collabText, "the status stays");
  assert.is(await page.textContent("#stream-status"), collabText);
  assert.equal(errors, []);
  await page.close();
});

test("a page opened with an expired token connects to nothing and says so", async () => {
  const before = await expiredRefusals();
  const ring = await loadKeyring({ dataDir: w.dir.path, envSecret: undefined });
  const hourAgoMs = Date.now() - 3600_000;
  const token = await mintToken(ring, {
    session: SESSION,
    role: "owner",
    ttlS: 60,
    nowMs: hourAgoMs,
  });
  const { page, sockets, errors } = await openPage(
    `${w.base}/?session=${SESSION}&token=${token}&name=late`,
  );
  await waitExpired(page, sockets, { timeoutMs: 15_000, base: w.base });
  const at = new Date(Math.floor(hourAgoMs / 1000 + 60) * 1000).toISOString();
  const want = `token expired at ${at}: open the page with a new token ` +
    `(troupe token --session ops --role owner)`;
  assert.is(await page.textContent("#collab-status"), want);
  assert.is(await page.textContent("#stream-status"), want);
  for (const sel of WRITING_CONTROLS) assert.ok(await page.isDisabled(sel), `${sel} disabled`);
  assert.match(await page.textContent("#thresholds .offline-note") ?? "", "not saved");
  await page.waitForTimeout(RECONNECT_WATCH_MS);
  assert.equal(sockets, [], "the page opened no socket");
  assert.equal(await expiredRefusals(), before, "the servers refused no expired token");
  assert.equal(errors, []);
  await page.close();
});

test("a page whose token expires while its server is away stops reconnecting at the expiry and says so", async () => {
  const dir = tempDir("troupe-dash-away-");
  const launch = (port?: number) =>
    launchCollab({
      dataDir: dir.path,
      nats: w.nats.url,
      bridge: false,
      ...(port === undefined ? {} : { port }),
    });
  let collab = await launch();
  try {
    const port = collab.server.port, base = `http://127.0.0.1:${port}`;
    await getText(`${base}/dashboard.js`);
    const token = await tokenFor(dir.path, "away", "editor", 8);
    const { page, sockets, errors } = await openPage(
      `${base}/?session=away&token=${token}&name=ed&backfill=0`,
    );
    await page.waitForSelector("#collab-status.up", { timeout: 6000 });
    await page.waitForSelector("body[data-stream-subscribed]", { timeout: 6000 });
    // The server goes away while the token is valid: the page retries (each attempt refused by
    // the network), until an attempt fails after the token's expiry.
    await collab.close();
    await page.waitForSelector("#collab-status.down", { timeout: 5000 });
    assert.not.match(await page.textContent("#collab-status") ?? "", "expired");
    await waitExpired(page, sockets, { timeoutMs: 20_000 });
    assert.match(
      await page.textContent("#collab-status") ?? "",
      /^token expired at .*Z: open the page with a new token \(troupe token --session away --role editor\)$/,
    );
    assert.ok(await page.isDisabled("#checklist button[name=add-step]"));
    // Back on the same port, the server would refuse and count every reconnect now.
    const tried = sockets.length;
    assert.ok(tried > 2, `the page retried while the token was valid: ${sockets.join(", ")}`);
    collab = await launch(port);
    await page.waitForTimeout(RECONNECT_WATCH_MS);
    assert.is(sockets.length, tried, `no socket opened after the expiry: ${sockets.join(", ")}`);
    assert.equal(await expiredRefusals(base), { collab: 0, stream: 0 });
    assert.equal(errors, []);
    await page.close();
  } finally {
    await collab.close();
    dir.remove();
  }
});

if (run) test.run();
