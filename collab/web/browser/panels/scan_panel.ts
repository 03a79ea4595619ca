/// <reference lib="dom" />
/**
 * The scan form and its results. A scan is started through the collab server's `/api/*` proxy
 * (`POST /api/scan/stream`); its results stream in over Server-Sent Events through the same proxy
 * (`/api/events/results/{id}`: the scan service's own stream, which resumes by `Last-Event-ID`
 * itself and ends with the final statistics, so a scan's results need no gateway buffer), into a
 * table sortable by any column; its live statistics are polled while it runs, and a stop button
 * ends it early. A scan writes nothing shared (its results go to this page only), so a viewer may
 * run one too. Ranks show four significant digits (the exact value in the cell's title and
 * `data-value`, which the sort uses).
 */
import { byId, el, find } from "../dom.ts";
import type { PageParams, SessionLink } from "../link/mod.ts";
import {
  decodeScanResult,
  decodeScanStarted,
  decodeScanStats,
  type ScanResult,
  type ScanStats,
} from "../../../../protocol/mod.ts";

/** One result row as the scan service sends it. */
export type ScanRow = ScanResult;

/** Bounds of the panel. */
export const SCAN_LIMITS = { rows_max: 5000, stats_poll_ms: 500 } as const;

const COLUMNS: Array<keyof ScanRow> = ["seq", "symbol", "rank"];

/** A number as a person reads it: integers whole, others to four significant digits. */
export function formatNumber(x: number): string {
  if (Number.isInteger(x) || !Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  if (abs >= 1e6 || abs < 1e-3) return x.toExponential(3);
  return String(Number(x.toPrecision(4)));
}

function cell(value: string | number | null): HTMLElement {
  if (typeof value !== "number") return el("td", {}, value ?? "");
  return el("td", { title: String(value), "data-value": String(value) }, formatNumber(value));
}

export class ScanPanel {
  readonly #params: PageParams;
  readonly #rows: ScanRow[] = [];
  readonly #body: HTMLElement;
  readonly #stats = byId("scan-stats");
  readonly #stop: HTMLButtonElement;
  #sort: { key: keyof ScanRow; dir: 1 | -1 } = { key: "seq", dir: 1 };
  #source: EventSource | undefined;
  #poll: ReturnType<typeof setInterval> | undefined;
  #scanId: string | undefined;
  #dirty = false;

  constructor(link: SessionLink, params: PageParams) {
    this.#params = params;
    const root = byId("scan");
    this.#body = find(root, "tbody");
    const criteria = el("input", {
      name: "criteria",
      placeholder: "criteria, e.g. close > sma(close, 20)",
      size: 30,
    });
    const rank = el("input", {
      name: "rank",
      placeholder: "rank (optional)",
      size: 12,
    });
    const bar = el("input", { name: "bar", value: "1m", size: 4 });
    const universe = el("input", {
      name: "universe",
      placeholder: "symbols (all)",
      size: 12,
    });
    const start = el("button", { name: "start-scan" }, "scan");
    this.#stop = el("button", { name: "stop-scan", disabled: true }, "stop");
    start.addEventListener("click", () => {
      const body: Record<string, unknown> = { criteria: criteria.value, bar: bar.value };
      if (rank.value.trim()) body.rank = rank.value.trim();
      const u = universe.value.split(",").map((s) => s.trim()).filter(Boolean);
      if (u.length) body.universe = u;
      void this.start(body);
    });
    this.#stop.addEventListener("click", () => void this.stop());
    find(root, ".editor").append(
      el("div", { class: "row" }, criteria, rank, bar, universe, start, this.#stop),
      ...(link.canWrite ? [] : [
        el(
          "div",
          { class: "readonly-note" },
          "read-only: a scan writes nothing shared, so viewers may run one",
        ),
      ]),
    );
    find(root, "thead").append(el(
      "tr",
      {},
      ...COLUMNS.map((c) => {
        const th = el("th", { "data-sort": c }, c);
        th.addEventListener("click", () => {
          this.#sort = { key: c, dir: this.#sort.key === c ? (-this.#sort.dir as 1 | -1) : 1 };
          this.render();
        });
        return th;
      }),
    ));
  }

  #api(path: string): string {
    const q = new URLSearchParams({ session: this.#params.session, token: this.#params.token });
    return `/api${path}?${q}`;
  }

  /** Starts a scan with `body` (the scan service's request) and streams its results. */
  async start(body: Record<string, unknown>): Promise<void> {
    this.#source?.close();
    clearInterval(this.#poll);
    this.#rows.length = 0;
    this.render();
    const res = await fetch(this.#api("/scan/stream"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) {
      this.#stats.textContent = `refused (${res.status}): ${text.trim()}`;
      return;
    }
    const { scanId } = this.#decoded(() => decodeScanStarted(text)) ?? {};
    if (scanId === undefined) return;
    this.#scanId = scanId;
    this.#stop.disabled = false;
    const source = new EventSource(this.#api(`/events/results/${scanId}`));
    this.#source = source;
    source.addEventListener("result", (ev) => {
      if (this.#rows.length >= SCAN_LIMITS.rows_max) return;
      const row = this.#decoded(() => decodeScanResult((ev as MessageEvent).data));
      if (row === undefined) return;
      this.#rows.push(row);
      this.#markDirty();
    });
    source.addEventListener("end", (ev) => {
      source.close();
      clearInterval(this.#poll);
      this.#stop.disabled = true;
      const stats = this.#decoded(() => decodeScanStats((ev as MessageEvent).data));
      if (stats) this.#showStats(stats);
    });
    this.#poll = setInterval(() => void this.#pollStats(), SCAN_LIMITS.stats_poll_ms);
  }

  /** Stops the running scan early. */
  async stop(): Promise<void> {
    if (!this.#scanId) return;
    const res = await fetch(this.#api(`/scan/stop/${this.#scanId}`), { method: "POST" });
    if (!res.ok) {
      this.#stats.textContent = `stop refused (${res.status}): ${(await res.text()).trim()}`;
    }
  }

  async #pollStats(): Promise<void> {
    if (!this.#scanId) return;
    const res = await fetch(this.#api(`/scan/stats/${this.#scanId}`));
    if (!res.ok) return;
    const text = await res.text();
    const stats = this.#decoded(() => decodeScanStats(text));
    if (stats) this.#showStats(stats);
  }

  /** What `decode` returns; a malformed answer is shown in the stats line (what and why). */
  #decoded<T>(decode: () => T): T | undefined {
    try {
      return decode();
    } catch (err) {
      this.#stats.textContent = `malformed answer: ${(err as Error).message}`;
      return undefined;
    }
  }

  #showStats(s: ScanStats): void {
    this.#stats.textContent = `${s.state}: ${s.symbols_done}/${s.symbols_total} symbols, ` +
      `${s.signals} signals, ${s.symbols_per_s.toFixed(0)} symbols/s, ` +
      `${s.elapsed_ms.toFixed(0)} ms` + (s.error ? `, error: ${s.error}` : "");
  }

  #markDirty(): void {
    if (this.#dirty) return;
    this.#dirty = true;
    requestAnimationFrame(() => {
      this.#dirty = false;
      this.render();
    });
  }

  render(): void {
    const { key, dir } = this.#sort;
    const sorted = [...this.#rows].sort((a, b) => {
      const x = a[key], y = b[key];
      if (x === y) return 0;
      if (x === null) return 1;
      if (y === null) return -1;
      return (x < y ? -1 : 1) * dir;
    });
    this.#body.replaceChildren(
      ...sorted.slice(0, 500).map((r) =>
        el(
          "tr",
          { "data-symbol": r.symbol },
          ...COLUMNS.map((c) => cell(r[c])),
        )
      ),
    );
  }
}
