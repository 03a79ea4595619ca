/**
 * The alert sender against targets that fail: an Alertmanager that refuses an alert with 400 (the
 * reason logged and counted, not retried), one that answers 500 or too late (retried with backoff
 * until it takes it), a URL that never answers (bounded: the other target still gets every alert),
 * and a slow webhook (its outbox stays within its bound and what falls off is counted). The
 * failing parts are HTTP servers served here; what they answer is the fault under test. The
 * webhook's body is checked as Alertmanager's version 4, with the configured header.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "node:http";
import { Registry } from "prom-client";
import {
  AlertSender,
  parseAlertingConfig,
  registerAlertMetrics,
} from "../../../actors/alerting/mod.ts";
import {
  defaultIncidentConfig,
  type IncidentConfig,
  IncidentStage,
} from "../../../actors/incidents/mod.ts";
import { freePort } from "../../../actors/runtime/mod.ts";
import {
  alertFingerprint,
  type Incident,
  type IncidentKind,
  parsePostableAlerts,
} from "../../../protocol/mod.ts";
import { until, WebhookReceiver } from "../../_support/alertmanager.ts";

const test = suite("alert faults");

const CONFIG: IncidentConfig = {
  ...defaultIncidentConfig,
  for_us: 0,
  reorder_us: 0,
  hold_us: 1_000_000,
  group_window_us: 1_000_000,
};

/** `n` incidents, one per channel, of kind collapse (all but the last resolved by the next). */
function incidents(n: number, kind: IncidentKind = "collapse", config = CONFIG): Incident[] {
  const stage = new IncidentStage({ config, publish: () => {} });
  const t0 = Date.now() * 1000;
  for (let i = 0; i < n; i++) {
    stage.takeFinding({
      id: `f${i}`,
      kind,
      channel: `C${i}`,
      ts_us: t0 + i * 2_000_000,
      severity: 5,
    });
  }
  return stage.list();
}

/** An HTTP server whose answer per request the test decides. */
async function server(
  answer: (n: number, body: string) => { status: number; delayMs?: number } | "hang",
): Promise<{ url: string; posts: string[]; close(): Promise<void> }> {
  const posts: string[] = [];
  const s: Server = createServer((req, res) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString()));
    req.on("end", () => {
      posts.push(text);
      const a = answer(posts.length, text);
      if (a === "hang") return;
      setTimeout(
        () => res.writeHead(a.status).end(a.status >= 400 ? `"bad ${a.status}"` : ""),
        a.delayMs ?? 0,
      );
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => s.listen(port, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${port}`,
    posts,
    close: () => {
      s.closeAllConnections?.();
      return new Promise((r) => s.close(() => r()));
    },
  };
}

function sender(extra: Record<string, unknown>, logs: string[]) {
  return new AlertSender(
    parseAlertingConfig({
      resend_ms: 60_000,
      timeout_ms: 300,
      retry_ms_max: 400,
      // Delivery, not paging: every fired incident is sent.
      paging: { budget: false, page_kinds: ["collapse", "coherence"] },
      ...extra,
    }),
    { log: (m) => logs.push(m) },
  );
}

test("an Alertmanager that refuses an alert with 400 has it logged and counted once, not retried; the others of the batch go through", async () => {
  const am = await server((_n, body) => {
    const alerts = parsePostableAlerts(body);
    return { status: alerts.some((a) => a.labels.channel === "C1") ? 400 : 200 };
  });
  const logs: string[] = [];
  const s = sender({ alertmanagers: [am.url] }, logs);
  try {
    const list = incidents(3);
    await s.start(list);
    await until(() => s.counts()[0]!.counts.sent === 2, 10000, "the two good alerts");
    await new Promise((r) => setTimeout(r, 800)); // a retry would come within the backoff's max
    const c = s.counts()[0]!;
    assert.is(c.counts.failed, 1);
    assert.is(c.counts.retried, 0);
    // The batch of 3 once, then each alone: no more.
    assert.is(am.posts.length, 4);
    assert.is(logs.length, 1);
    assert.match(logs[0]!, /refused the alert of incident collapse-\d+-C1: HTTP 400: "bad 400"/);
    assert.is(s.delivery()[0]!.incidents[list[1]!.id], "refused");
    assert.is(s.delivery()[0]!.incidents[list[0]!.id], "sent");
    // /metrics says the same, per target.
    const registry = new Registry();
    registerAlertMetrics(registry, s);
    const text = await registry.metrics();
    assert.match(text, `troupe_alerts_sent_total{target="${am.url}"} 2`);
    assert.match(text, `troupe_alerts_failed_total{target="${am.url}"} 1`);
    assert.match(text, `troupe_alerts_retried_total{target="${am.url}"} 0`);
    assert.match(text, `troupe_alerts_dropped_total{target="${am.url}"} 0`);
    assert.match(text, `troupe_alerts_owed{target="${am.url}"} 0`);
  } finally {
    await s.stop();
    await am.close();
  }
});

test("500s and answers later than the timeout are retried with backoff until the Alertmanager takes the alert", async () => {
  const am = await server((n) =>
    n <= 2 ? { status: 500 } : n === 3 ? { status: 200, delayMs: 3000 } : { status: 200 }
  );
  const logs: string[] = [];
  const s = sender({ alertmanagers: [am.url], timeout_ms: 1000 }, logs);
  try {
    await s.start(incidents(1));
    await until(() => s.counts()[0]!.counts.sent === 1, 15000, "the alert taken");
    const c = s.counts()[0]!;
    assert.is(c.counts.retried, 3, "two 500s and one timeout");
    assert.is(c.counts.failed, 0);
    assert.is(am.posts.length, 4);
    assert.ok(s.settled());
    assert.equal(logs, []);
  } finally {
    await s.stop();
    await am.close();
  }
});

test("a URL that never answers holds only its own bounded outbox: the other target gets every alert", async () => {
  const dead = await server(() => "hang");
  const hook = await new WebhookReceiver().listen();
  const logs: string[] = [];
  const s = sender({
    alertmanagers: [dead.url],
    webhooks: [{ url: hook.url, headers: { Authorization: "Bearer t0ken" } }],
    owed_max: 16,
  }, logs);
  try {
    const list = incidents(24);
    await s.start(list);
    await until(() => hook.bodies.length === 16, 15000, "the webhook's 16 alerts");
    const [stuck, web] = s.counts();
    assert.ok(dead.posts.length <= 4, `${dead.posts.length} posts to the dead URL`);
    assert.is(stuck!.owed, 16, "the dead target's outbox is at its bound");
    assert.is(stuck!.counts.dropped, 8);
    assert.is(web!.counts.dropped, 8);
    // The webhook body is Alertmanager's, with the configured header.
    const body = hook.bodies[0]!;
    assert.is(body.version, "4");
    assert.is(body.alerts[0]!.fingerprint, alertFingerprint(body.alerts[0]!.labels));
    assert.is(hook.headers[0]!.authorization, "Bearer t0ken");
  } finally {
    await s.stop();
    await dead.close();
    await hook.close();
  }
});

test("troupe_alerts_dropped_total counts only alerts that fell off before the target took them, not those evicted after", async () => {
  const hook = await new WebhookReceiver().listen();
  const logs: string[] = [];
  const s = sender({ webhooks: [hook.url], owed_max: 16 }, logs);
  const registry = new Registry();
  const unregister = registerAlertMetrics(registry, s);
  try {
    const list = incidents(24, "collapse", { ...CONFIG, hold_us: 3_600_000_000 });
    assert.ok(list.every((i) => i.state === "firing"));
    await s.start(list.slice(0, 16));
    await until(() => hook.bodies.length === 16, 15000, "the webhook's 16 alerts");
    await until(() => s.settled(), 15000, "the outbox to settle");
    for (const i of list.slice(16)) s.observe(i); // evicts eight the webhook holds
    await until(() => hook.bodies.length === 24, 15000, "the other eight");
    assert.is(s.counts()[0]!.counts.dropped, 0, "nothing lost: each was delivered");
    const text = await registry.metrics();
    assert.match(text, `troupe_alerts_dropped_total{target="${hook.url}"} 0`);
  } finally {
    unregister();
    await s.stop();
    await hook.close();
  }
});

test("a slow webhook gets each alert once, in time, and its backlog never grows past the bound", async () => {
  const hook = await new WebhookReceiver().listen();
  hook.delayMs = 100;
  const logs: string[] = [];
  const s = sender({ webhooks: [hook.url], owed_max: 16, timeout_ms: 3000 }, logs);
  try {
    await s.start([]);
    let most = 0;
    for (const i of incidents(40)) {
      s.observe(i);
      most = Math.max(most, s.counts()[0]!.owed);
    }
    assert.ok(most <= 16, `owed reached ${most}`);
    await until(() => s.settled(), 20000, "the webhook to catch up");
    const c = s.counts()[0]!;
    assert.is(
      c.counts.dropped + hook.bodies.length,
      40,
      "every alert delivered or counted dropped",
    );
    assert.is(c.counts.dropped, 24);
    await new Promise((r) => setTimeout(r, 300));
    assert.is(hook.bodies.length, 16, "a webhook is sent each state once");
  } finally {
    await s.stop();
    await hook.close();
  }
});

test.run();
