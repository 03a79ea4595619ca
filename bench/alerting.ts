/**
 * `troupe bench alerting`: how long a finding takes to become an alert Alertmanager lists, and
 * whether the alerts survive restarts. A run of labelled crashes (each: anomaly findings on three
 * fresh channels at once, which the stage groups into one incident) is published on a real
 * nats-server to the cluster's incident stage, journaled in a child process with the alert sender
 * beside it (bench/_alert_host.ts), posting to Debian's Alertmanager. Every crash is timed from its
 * findings' publish to:
 *
 * - troupe: Alertmanager listing its alert (`GET /api/v2/alerts`, polled every 20 ms), and
 * - baseline: the firing incident on troupe's own `watch` stream (`troupe.out.incident.*`), the
 *   same path up to the sender;
 *
 * `alert_ms_p50` and `alert_ms_p99` over the run. During the run Alertmanager is restarted twice
 * (it keeps no alerts across a restart: only troupe can give them back) and the host is killed once
 * with SIGKILL and started again (no crash is published while it is down: its actors would be down
 * too). At the end, `alerts_lost` counts crashes whose alert Alertmanager never listed, and
 * `alerts_wrong_state` the incidents whose state in Alertmanager (active or not) differs from
 * troupe's (firing or not) once the sender settles. The stage fires a crash at once (`for_us` 0)
 * and resolves it 3 s of event time after, so the end holds both firing and resolved incidents;
 * the sender re-sends every second and retries at most a second apart.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import process from "node:process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NatsBus } from "../actors/runtime/mod.ts";
import {
  decodeIncident,
  decodeIncidentList,
  encodeEnvelope,
  encodeEventEnvelope,
  INCIDENT_ACTOR,
  incidentListSubject,
  outPattern,
  outSubject,
} from "../protocol/mod.ts";
import {
  type BenchContext,
  type Benchmark,
  type BenchRow,
  nowMs,
  percentile,
  row,
} from "./_bench.ts";
import { startBenchNats } from "./_bench_nats.ts";
import { ChildScript } from "./_child_script.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";
import { ALERTMANAGER_BIN, TestAlertmanager, WebhookReceiver } from "./_alertmanager.ts";

const NAME = "alerting";
const POLL_MS = 20;
const SETTLE_MS_MAX = 20_000;

const OPTIONS = {
  crashes: {
    help: "labelled crashes in the run",
    arg: "N",
    default: 40,
    number: { min: 10, max: 1000, integer: true },
  },
  "gap-ms": {
    help: "wall time between two crashes (more than the stage's grouping window, 100 ms)",
    arg: "MS",
    default: 250,
    number: { min: 150, max: 10_000, integer: true },
  },
} satisfies OptionTable;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The findings of crash `i` at `ts` (µs): anomalies scored 0.95 on three fresh channels. */
function crashFindings(i: number, ts: number): { subject: string; data: Uint8Array }[] {
  return ["a", "b", "c"].map((s) => {
    const channel = `K${i}${s}`;
    return {
      subject: outSubject("anomaly", channel),
      data: encodeEventEnvelope({ id: `crash-${i}-${s}`, type: "anomaly", src: "bench", ts }, {
        type: "anomaly",
        ts,
        channel,
        score: 0.95,
        value: 80,
        expected: 100,
        lower: 95,
        upper: 105,
      }),
    };
  });
}

async function runBench(crashes: number, gapMs: number, ctx: BenchContext): Promise<BenchRow[]> {
  if (!existsSync(ALERTMANAGER_BIN)) {
    throw new Error(
      `Cannot run benchmark "${NAME}": Alertmanager is not installed at ${ALERTMANAGER_BIN} ` +
        "(Debian/Ubuntu: apt-get install prometheus-alertmanager)",
    );
  }
  const nats = await startBenchNats(NAME);
  const hook = await new WebhookReceiver().listen();
  const am = await TestAlertmanager.start(hook.url);
  const dir = mkdtempSync(join(tmpdir(), "troupe-bench-alerting-"));
  const bus = await NatsBus.connect(nats.url);
  const hostArgs = JSON.stringify({
    nats: nats.url,
    dir,
    incidents: { for_us: 0, reorder_us: 0, hold_us: 3_000_000, group_window_us: 100_000 },
    alerting: { alertmanagers: [am.url], resend_ms: 1000, retry_ms_max: 1000, timeout_ms: 1000 },
  });
  const startHost = async () => {
    const h = ChildScript.start("bench/_alert_host.ts", [hostArgs], ctx.log);
    await h.next(60_000);
    return h;
  };
  let host = await startHost();
  const published = new Map<string, number>();
  const watchSeen = new Map<string, number>();
  const amSeen = new Map<string, number>();
  const sub = bus.subscribe(outPattern(INCIDENT_ACTOR), (m) => {
    try {
      const { incident } = decodeIncident(m.data);
      if (incident.state === "firing" && !watchSeen.has(incident.id)) {
        watchSeen.set(incident.id, nowMs());
      }
    } catch {
      // not an incident update
    }
  });
  let polling = true;
  const poller = (async () => {
    while (polling) {
      try {
        for (const a of await am.alerts()) {
          const id = a.labels.incident;
          if (id !== undefined && !amSeen.has(id)) amSeen.set(id, nowMs());
        }
      } catch {
        // restarting
      }
      await sleep(POLL_MS);
    }
  })();
  const restarts: Promise<void>[] = [];
  try {
    const amAt = new Set([Math.floor(crashes * 0.25), Math.floor(crashes * 0.7)]);
    const hostAt = Math.floor(crashes * 0.45);
    for (let i = 0; i < crashes; i++) {
      if (amAt.has(i)) {
        ctx.log(`crash ${i}: Alertmanager killed and restarted`);
        restarts.push(am.restart());
      }
      if (i === hostAt) {
        ctx.log(`crash ${i}: the host killed with SIGKILL and started again`);
        process.kill(host.pid!, "SIGKILL");
        await host.wait(5_000);
        host = await startHost();
      }
      const ts = Date.now() * 1000;
      const t = nowMs();
      for (const f of crashFindings(i, ts)) bus.publish(f.subject, f.data);
      published.set(`anomaly-${ts}-K${i}a`, t);
      await sleep(gapMs);
    }
    await Promise.all(restarts);
    // Settled: every crash listed, and Alertmanager's active alerts are troupe's firing incidents.
    let wrong = Infinity;
    const end = Date.now() + SETTLE_MS_MAX;
    while (Date.now() < end) {
      const firing = new Set(
        (await listIncidents(bus)).filter((i) => i.state === "firing").map((i) => i.id),
      );
      const active = new Set((await am.alerts()).map((a) => a.labels.incident ?? ""));
      wrong = [...firing].filter((id) => !active.has(id)).length +
        [...active].filter((id) => !firing.has(id)).length;
      const listedAll = [...published.keys()].every((id) => amSeen.has(id));
      if (wrong === 0 && listedAll) break;
      await sleep(200);
    }
    const lost = [...published.keys()].filter((id) => !amSeen.has(id)).length;
    const lat = (seen: Map<string, number>) =>
      [...published].filter(([id]) => seen.has(id)).map(([id, t]) => seen.get(id)! - t).sort((
        a,
        b,
      ) => a - b);
    const troupe = lat(amSeen), base = lat(watchSeen);
    ctx.log(
      `${crashes} crashes: Alertmanager listed ${troupe.length}, the watch stream showed ` +
        `${base.length}; wrong state at the end ${wrong}; webhook bodies ${hook.bodies.length}`,
    );
    const figure = (metric: string, unit: string, t: number, b: number | null) =>
      row({ bench: NAME, metric, unit, troupe: t, baseline: b, better: "lower" });
    return [
      figure("alert_ms_p50", "ms", percentile(troupe, 50), percentile(base, 50)),
      figure("alert_ms_p99", "ms", percentile(troupe, 99), percentile(base, 99)),
      figure("alerts_lost", "alerts", lost, null),
      figure("alerts_wrong_state", "alerts", wrong, null),
    ];
  } finally {
    polling = false;
    await poller;
    sub.unsubscribe();
    process.kill(host.pid!, "SIGKILL");
    await host.wait(5_000).catch(() => null);
    await bus.close();
    await am.cleanup();
    await hook.close();
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function listIncidents(bus: NatsBus) {
  const ask = encodeEnvelope({
    id: `bench-${Date.now()}`,
    type: "list",
    src: "bench",
    ts: 0,
    body: null,
  });
  try {
    return decodeIncidentList(
      (await bus.request(incidentListSubject(), ask, { timeout: 2000 })).data,
    );
  } catch {
    return [];
  }
}

export const benchmark: Benchmark = {
  name: NAME,
  summary: "finding to Alertmanager listing the alert, p50/p99 (baseline: troupe's watch " +
    "stream), and alerts lost or in the wrong state across Alertmanager restarts and a host kill",
  options: OPTIONS,
  async run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    const o = readOptions(args, OPTIONS);
    return await runBench(o.crashes, o["gap-ms"], ctx);
  },
};
