/**
 * `troupe bench pages`: what troupe pages an on-call engineer for, on one real node watched as a
 * team watches it. Debian's node exporter (its textfile collector on) is scraped every 5 s by
 * Debian's Prometheus, which gathers history alone for `--settle-s` and `--history-s`, then
 * remote-writes to a `troupe run` host whose receiver reads each new series' last `--history-s`
 * from that Prometheus (`history_url`) and whose alert sender posts to Debian's Alertmanager;
 * Alertmanager routes pages (`page="true"`) and groups below the budget (`page="false"`) to two
 * webhooks in this process, which log every alert with its time and labels. A fault schedule then
 * runs: quiet, and after each fault (CPU burner, memory balloon, fsync'd disk writes, a textfile
 * gauge stepped and back) its grace and quiet again. Rows (bench/_pages_rows.ts):
 * `pages_per_node_hour` in the quiet, `faults_paged`, `page_delay_s_p50`/`max` (and
 * `_after_load_max`, from each fault's load whole), `pages_with_instance_label`,
 * `findings_per_node_hour`, each against the issue's bar where it has one; the log names each
 * page's series, and for a fault not paged, the budget bits of the groups below the budget in its
 * window. `--record DIR` keeps a `troupe record` of the run and the alerts and faults as JSON, to
 * replay a detector change against the same data.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { type BenchContext, type Benchmark, type BenchRow } from "./_bench.ts";
import { findNatsServer } from "../actors/runtime/mod.ts";
import { BenchHaltError } from "./_bench_halt_error.ts";
import { type OptionTable, type OptionValues, readOptions } from "./_option_table.ts";
import { tempDir } from "./_temp_dir.ts";
import { ALERTMANAGER_BIN, TestAlertmanager } from "./_alertmanager.ts";
import { AlertLog, alertmanagerConfig, type LoggedAlert } from "./_alert_log.ts";
import {
  FAULT_KINDS,
  type FaultKind,
  type FaultSettings,
  initGauge,
  type RunningFault,
  startFault,
} from "./_pages_faults.ts";
import type { FaultWindow } from "./_pages_score.ts";
import { PagesTroupe } from "./_pages_troupe.ts";
import { pagesReport } from "./_pages_rows.ts";
import {
  NODE_EXPORTER_BIN,
  PROMETHEUS_BIN,
  requireBinary,
  SCRAPE_INTERVAL_S,
  ScrapedNode,
} from "./_scraped_node.ts";

const NAME = "pages";
/** How often a long wait says where the run is. */
const PROGRESS_MS = 60_000;

const faultOption = (what: string) => ({
  help: `seconds the ${what} runs (0: not injected)`,
  arg: "S",
  default: 120,
  number: { min: 0, max: 3600, integer: true },
});

const OPTIONS = {
  "history-s": {
    help: "seconds Prometheus scrapes the node before troupe starts (its history; the anomaly " +
      "detector's warm-up, 150 samples, is 750 s at a 5 s scrape)",
    arg: "S",
    default: 900,
    number: { min: 10, max: 86_400, integer: true },
  },
  "settle-s": {
    help: "seconds Prometheus scrapes the node before the history troupe reads begins: the " +
      "start of the servers this bench runs, and the machine's work from before it, are not " +
      "the node's recent past a team's long-running Prometheus holds",
    arg: "S",
    default: 60,
    number: { min: 0, max: 3600, integer: true },
  },
  "quiet-s": {
    help: "seconds of each quiet stretch: one before the first fault and one after each " +
      "fault's grace (4 faults: 5 stretches, 30 minutes of quiet)",
    arg: "S",
    default: 360,
    number: { min: 10, max: 86_400, integer: true },
  },
  "grace-s": {
    help: "seconds after a fault ends whose pages are still the fault's (not quiet)",
    arg: "S",
    default: 60,
    number: { min: 0, max: 3600, integer: true },
  },
  "cpu-s": faultOption("CPU burner (--cpu-per-core spinning processes a core)"),
  "memory-s": {
    ...faultOption("memory balloon"),
    help: "seconds the memory balloon is held once it holds all it takes (its fill, which can " +
      "take minutes, comes first and counts in the fault's window; 0: not injected)",
  },
  "disk-s": faultOption("burst of fsync'd disk writes"),
  "gauge-s": faultOption("textfile gauge's step (100 to 1000, then back)"),
  "memory-left": {
    help: "share of the machine's memory the balloon leaves available (it takes the rest of " +
      "what is available: memory under pressure)",
    arg: "X",
    default: 0.05,
    number: { min: 0.01, max: 0.9 },
  },
  "cpu-per-core": {
    help: "spinning processes per core the CPU burner starts: 1 keeps each core busy " +
      "(utilisation); 3 leaves three runnable a core, a load per core past node-mixin's " +
      "saturation rule of 2 (saturation: the USE method's, as the memory fault's pressure)",
    arg: "N",
    default: 3,
    number: { min: 1, max: 16, integer: true },
  },
  preset: {
    help: "the receiver's preset (remote_write.preset): \"node\" watches only node exporter's " +
      'indicators (actors/ingest/node_preset.ts); "none" every series but the exporters\' ' +
      "instrumentation",
    arg: "NAME",
    oneOf: ["none", "node"],
    default: "node",
  },
  record: {
    help: "keep a troupe record of the run (DIR/run.rec; troupe replay DIR/run.rec) and its " +
      "alerts and faults (DIR/alerts.json, DIR/faults.json) in DIR",
    arg: "DIR",
    defaultText: "kept nowhere",
  },
} satisfies OptionTable;

type Options = OptionValues<typeof OPTIONS>;

/** Thrown out of a wait when the run is interrupted (exit 130, as a shell gives Ctrl-C). */
function interrupted(signal: string): BenchHaltError {
  return new BenchHaltError(`interrupted by ${signal}: every child stopped`, { exitCode: 130 });
}

/** Waits that end early, with an Interrupted error, on Ctrl-C or SIGTERM. */
class Waits {
  #signal: string | undefined;
  #wake: (() => void) | undefined;
  readonly #onSignal = (signal: string) => {
    this.#signal = signal;
    this.#wake?.();
  };
  readonly #onInt = () => this.#onSignal("SIGINT");
  readonly #onTerm = () => this.#onSignal("SIGTERM");

  constructor() {
    process.on("SIGINT", this.#onInt);
    process.on("SIGTERM", this.#onTerm);
  }

  /** Throws if a signal came. */
  check(): void {
    if (this.#signal !== undefined) throw interrupted(this.#signal);
  }

  /** Waits `ms`, calling `progress` with the seconds left every minute. */
  async sleep(ms: number, progress?: (leftS: number) => void): Promise<void> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      this.check();
      const step = Math.min(end - Date.now(), PROGRESS_MS);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, step);
        this.#wake = () => (clearTimeout(timer), r());
      });
      this.check();
      if (progress && Date.now() < end) progress(Math.round((end - Date.now()) / 1000));
    }
  }

  close(): void {
    process.off("SIGINT", this.#onInt);
    process.off("SIGTERM", this.#onTerm);
  }
}

/** Every binary the run starts, checked before anything starts. */
function requireBinaries(): void {
  requireBinary(NAME, NODE_EXPORTER_BIN, "prometheus-node-exporter");
  requireBinary(NAME, PROMETHEUS_BIN, "prometheus");
  requireBinary(NAME, ALERTMANAGER_BIN, "prometheus-alertmanager");
  if (!findNatsServer()) {
    throw new BenchHaltError(
      `Cannot run benchmark "${NAME}": nats-server is not installed (Debian/Ubuntu: apt-get ` +
        "install nats-server; macOS: brew install nats-server)",
    );
  }
}

/** The parts of a run, each stopped at its end whatever happened. */
interface Parts {
  node?: ScrapedNode;
  alertLog?: AlertLog;
  am?: TestAlertmanager;
  troupe?: PagesTroupe;
  fault?: RunningFault | undefined;
  /** The faults injected so far, each with its window. */
  faults: FaultWindow[];
}

async function runPages(o: Options, ctx: BenchContext): Promise<BenchRow[]> {
  requireBinaries();
  const recordDir = o.record === undefined ? undefined : resolve(o.record);
  if (recordDir !== undefined) mkdirSync(recordDir, { recursive: true });
  const dir = tempDir("troupe-bench-pages-");
  const waits = new Waits();
  const parts: Parts = { faults: [] };
  const t0 = Date.now();
  const at = () => `+${Math.round((Date.now() - t0) / 1000)} s`;
  const say = (m: string) => ctx.log(`${NAME} ${at()}: ${m}`);
  try {
    const textfileDir = join(dir.path, "node", "textfile");
    mkdirSync(textfileDir, { recursive: true });
    initGauge(textfileDir);
    parts.node = await ScrapedNode.start(join(dir.path, "node"));
    say(
      `node exporter on ${parts.node.instance}, Prometheus on ${parts.node.url} scraping it ` +
        `every ${SCRAPE_INTERVAL_S} s; settling for ${o["settle-s"]} s, then gathering ${
          o["history-s"]
        } s of history before troupe starts`,
    );
    await waits.sleep(o["settle-s"] * 1000, (left) => say(`settling, ${left} s left`));
    say(`the history troupe reads begins (node_load1 ${await parts.node.load1()})`);
    await waits.sleep(o["history-s"] * 1000, (left) => say(`gathering history, ${left} s left`));
    const up = await parts.node.upSamples(o["history-s"]);
    say(`Prometheus holds ${up} scrapes of the node in the history troupe reads`);
    parts.alertLog = await new AlertLog((a) => sayAlert(a, say)).listen();
    parts.am = await TestAlertmanager.start("", undefined, {
      config: alertmanagerConfig(parts.alertLog),
    });
    parts.troupe = new PagesTroupe({
      dir: dir.path,
      historyUrl: parts.node.url,
      historyWindowMs: o["history-s"] * 1000,
      scrapeIntervalMs: SCRAPE_INTERVAL_S * 1000,
      alertmanagerUrl: parts.am.url,
      recordFile: recordDir === undefined ? undefined : join(recordDir, "run.rec"),
      preset: o.preset,
      log: (m) => say(m),
    });
    await parts.troupe.start(NAME);
    waits.check();
    parts.troupe.goLive();
    await parts.node.remoteWriteTo(parts.troupe.writeUrl, parts.troupe.token);
    const liveStartMs = Date.now();
    say(`troupe run receiving on ${parts.troupe.writeUrl}; Prometheus now remote-writes to it`);
    const faults = await runSchedule(o, parts, {
      waits,
      say,
      settings: {
        dir: dir.path,
        textfileDir,
        memoryLeft: o["memory-left"],
        cpuPerCore: o["cpu-per-core"],
        log: say,
      },
    });
    const liveEndMs = Date.now();
    for (const line of await parts.troupe.budgetLines()) say(line);
    const report = pagesReport(parts.alertLog.alerts, faults, {
      liveStartMs,
      liveEndMs,
      graceMs: o["grace-s"] * 1000,
      findings: parts.troupe.findings.live,
      historyFindings: parts.troupe.findings.history,
      bench: NAME,
    });
    for (const line of report.lines) say(line);
    if (recordDir !== undefined) keep(recordDir, parts.alertLog.alerts, faults, say);
    return report.rows;
  } catch (err) {
    if (recordDir !== undefined) keepSoFar(recordDir, parts, say);
    throw err;
  } finally {
    waits.close();
    await stopAll(parts, ctx.log);
    dir.remove();
  }
}

/**
 * Keeps what a run that ends early saw (the alerts' descriptions are only in alerts.json), the
 * fault that was on with its window up to now.
 */
function keepSoFar(recordDir: string, parts: Parts, say: (m: string) => void): void {
  if (!parts.alertLog) return;
  const on = parts.fault;
  const faults = on
    ? [...parts.faults, { name: on.kind, startMs: on.startMs, endMs: Date.now() }]
    : parts.faults;
  keep(recordDir, parts.alertLog.alerts, faults, say);
}

/** The schedule: quiet, then each fault, its grace and quiet again. */
async function runSchedule(
  o: Options,
  parts: Parts,
  run: { waits: Waits; say: (m: string) => void; settings: FaultSettings },
): Promise<FaultWindow[]> {
  const { waits, say } = run;
  const progress = (left: number) => {
    const t = parts.troupe!;
    t.checkHost();
    const pages = parts.alertLog!.alerts.filter((a) => a.route === "page").length;
    say(
      `${t.liveFindings()} findings, ${pages} page deliveries so far; ${left} s left of this step`,
    );
  };
  const faults = parts.faults;
  say(`quiet for ${o["quiet-s"]} s`);
  await waits.sleep(o["quiet-s"] * 1000, progress);
  for (const kind of FAULT_KINDS) {
    const seconds = o[`${kind}-s` as `${FaultKind}-s`];
    if (seconds === 0) continue;
    parts.troupe!.checkHost();
    parts.fault = await startFault(kind, run.settings);
    say(`fault ${kind} on for ${seconds} s: ${parts.fault.what}`);
    await untilWhole(parts.fault, waits, say);
    const wholeMs = Date.now();
    await waits.sleep(seconds * 1000, progress);
    await parts.fault.stop();
    faults.push({ name: kind, startMs: parts.fault.startMs, endMs: Date.now(), wholeMs });
    parts.fault = undefined;
    say(`fault ${kind} off; its grace ${o["grace-s"]} s, then quiet for ${o["quiet-s"]} s`);
    await waits.sleep((o["grace-s"] + o["quiet-s"]) * 1000, progress);
  }
  return faults;
}

/** How long a fault's load may take to become whole (the balloon's fill) before the run ends. */
const WHOLE_WITHIN_MS = 600_000;

/**
 * Waits until `fault`'s load is whole (its window already began with its load), saying so every
 * 30 s; halts the run past WHOLE_WITHIN_MS.
 */
async function untilWhole(
  fault: RunningFault,
  waits: Waits,
  say: (m: string) => void,
): Promise<void> {
  let said = Date.now();
  while (!fault.whole()) {
    if (Date.now() - fault.startMs > WHOLE_WITHIN_MS) {
      throw new BenchHaltError(
        `the ${fault.kind} fault's load was not whole ${WHOLE_WITHIN_MS / 1000} s after it began`,
      );
    }
    if (Date.now() - said >= 30_000) {
      said = Date.now();
      say(
        `fault ${fault.kind}: its load is still building (${
          Math.round((said - fault.startMs) / 1000)
        } s)`,
      );
    }
    await waits.sleep(250);
  }
}

/** One line per alert delivered: pages in full, the info route's briefly. */
function sayAlert(a: LoggedAlert, say: (m: string) => void): void {
  const series = a.labels.metric ?? a.labels.channel ?? a.annotations.channels ?? "?";
  say(
    `alert to ${a.route}: ${a.status} ${a.labels.alertname ?? "?"} severity ` +
      `${a.labels.severity ?? "?"} budget_bits ${a.annotations.budget_bits ?? "?"} ` +
      `instance ${a.labels.instance ?? "-"} job ${a.labels.job ?? "-"}: ${series.slice(0, 160)}`,
  );
}

/** Writes the alerts and faults beside the recording, and says how to replay it. */
function keep(
  recordDir: string,
  alerts: readonly LoggedAlert[],
  faults: readonly FaultWindow[],
  say: (m: string) => void,
): void {
  writeFileSync(join(recordDir, "alerts.json"), `${JSON.stringify(alerts, null, 1)}\n`);
  writeFileSync(join(recordDir, "faults.json"), `${JSON.stringify(faults, null, 1)}\n`);
  say(
    `kept in ${recordDir}: run.rec (troupe replay ${join(recordDir, "run.rec")} --verify; ` +
      `with --config FILE for a detector change), alerts.json, faults.json`,
  );
}

/** Stops whatever of the run is up: the fault, the node, troupe, Alertmanager, the webhooks. */
async function stopAll(parts: Parts, log: (m: string) => void): Promise<void> {
  const steps: [string, (() => Promise<void>) | undefined][] = [
    ["the fault", parts.fault && (() => parts.fault!.stop())],
    // Prometheus first: troupe's input ends, so its host and recorder drain what they have.
    ["the node", parts.node && (() => parts.node!.stop())],
    ["troupe", parts.troupe && (() => parts.troupe!.stop())],
    ["Alertmanager", parts.am && (() => parts.am!.cleanup())],
    ["the webhooks", parts.alertLog && (() => parts.alertLog!.close())],
  ];
  for (const [what, stop] of steps) {
    try {
      await stop?.();
    } catch (err) {
      log(`${NAME}: cannot stop ${what}: ${(err as Error).message}`);
    }
  }
}

export const benchmark: Benchmark = {
  name: NAME,
  summary: "pages on a real node (node exporter, Prometheus, remote write, Alertmanager) in " +
    "the quiet and for injected faults: pages per node-hour, faults paged, delay, labels",
  options: OPTIONS,
  async run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    return await runPages(readOptions(args, OPTIONS), ctx);
  },
};
