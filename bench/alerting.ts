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
import { BenchHaltError } from "./_bench_halt_error.ts";
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
  findingSubject,
  INCIDENT_ACTOR,
  incidentListSubject,
  outPattern,
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
      subject: findingSubject("anomaly", channel),
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

/** The parts a run starts, and what it measures. */
interface Run {
  bus: NatsBus;
  am: TestAlertmanager;
  host: ChildScript;
  startHost: () => Promise<ChildScript>;
  /** Per crash's incident id: when its findings were published, its alert listed, its firing
   *  incident on the watch stream (ms). */
  published: Map<string, number>;
  amSeen: Map<string, number>;
  watchSeen: Map<string, number>;
}

async function runBench(crashes: number, gapMs: number, ctx: BenchContext): Promise<BenchRow[]> {
  if (!existsSync(ALERTMANAGER_BIN)) {
    throw new BenchHaltError(
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
    alerting: {
      alertmanagers: [am.url],
      resend_ms: 1000,
      retry_ms_max: 1000,
      timeout_ms: 1000,
      // Delivery is measured, not paging: every fired incident is sent.
      paging: { budget: false, page_kinds: ["collapse", "coherence"] },
    },
  });
  const startHost = async () => {
    const h = ChildScript.start("bench/_alert_host.ts", [hostArgs], ctx.log);
    await h.next(60_000);
    return h;
  };
  const run: Run = {
    bus,
    am,
    host: await startHost(),
    startHost,
    published: new Map(),
    amSeen: new Map(),
    watchSeen: new Map(),
  };
  const watching = watch(run);
  try {
    await publishCrashes(run, { crashes, gapMs, log: ctx.log });
    const wrong = await settle(run);
    const lost = [...run.published.keys()].filter((id) => !run.amSeen.has(id)).length;
    const troupe = latencies(run, run.amSeen), base = latencies(run, run.watchSeen);
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
    await watching.stop();
    process.kill(run.host.pid!, "SIGKILL");
    await run.host.wait(5_000).catch(() => null);
    await bus.close();
    await am.cleanup();
    await hook.close();
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Notes when each incident first fires on the watch stream and is first listed by Alertmanager. */
function watch(run: Run): { stop(): Promise<void> } {
  const sub = run.bus.subscribe(outPattern(INCIDENT_ACTOR), (m) => {
    try {
      const { incident } = decodeIncident(m.data);
      if (incident.state === "firing" && !run.watchSeen.has(incident.id)) {
        run.watchSeen.set(incident.id, nowMs());
      }
    } catch {
      // not an incident update
    }
  });
  let polling = true;
  const poller = (async () => {
    while (polling) {
      try {
        for (const a of await run.am.alerts()) {
          const id = a.labels.incident;
          if (id !== undefined && !run.amSeen.has(id)) run.amSeen.set(id, nowMs());
        }
      } catch {
        // restarting
      }
      await sleep(POLL_MS);
    }
  })();
  return {
    async stop() {
      polling = false;
      await poller;
      sub.unsubscribe();
    },
  };
}

/** The crashes, `gapMs` apart, with Alertmanager restarted twice and the host killed once. */
async function publishCrashes(
  run: Run,
  o: { crashes: number; gapMs: number; log: (m: string) => void },
): Promise<void> {
  const restarts: Promise<void>[] = [];
  const amAt = new Set([Math.floor(o.crashes * 0.25), Math.floor(o.crashes * 0.7)]);
  const hostAt = Math.floor(o.crashes * 0.45);
  for (let i = 0; i < o.crashes; i++) {
    if (amAt.has(i)) {
      o.log(`crash ${i}: Alertmanager killed and restarted`);
      restarts.push(run.am.restart());
    }
    if (i === hostAt) {
      o.log(`crash ${i}: the host killed with SIGKILL and started again`);
      process.kill(run.host.pid!, "SIGKILL");
      await run.host.wait(5_000);
      run.host = await run.startHost();
    }
    const ts = Date.now() * 1000;
    const t = nowMs();
    for (const f of crashFindings(i, ts)) run.bus.publish(f.subject, f.data);
    run.published.set(`anomaly-${ts}-K${i}a`, t);
    await sleep(o.gapMs);
  }
  await Promise.all(restarts);
}

/**
 * Waits until every crash was listed and Alertmanager's active alerts are troupe's firing
 * incidents, or SETTLE_MS_MAX; the incidents whose states differ then.
 */
async function settle(run: Run): Promise<number> {
  let wrong = Infinity;
  const end = Date.now() + SETTLE_MS_MAX;
  while (Date.now() < end) {
    const firing = new Set(
      (await listIncidents(run.bus)).filter((i) => i.state === "firing").map((i) => i.id),
    );
    const active = new Set((await run.am.alerts()).map((a) => a.labels.incident ?? ""));
    wrong = [...firing].filter((id) => !active.has(id)).length +
      [...active].filter((id) => !firing.has(id)).length;
    const listedAll = [...run.published.keys()].every((id) => run.amSeen.has(id));
    if (wrong === 0 && listedAll) break;
    await sleep(200);
  }
  return wrong;
}

/** From publish to `seen`, ms, sorted, of the crashes seen. */
function latencies(run: Run, seen: Map<string, number>): number[] {
  return [...run.published].filter(([id]) => seen.has(id)).map(([id, t]) => seen.get(id)! - t)
    .sort((a, b) => a - b);
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
