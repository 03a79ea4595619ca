/**
 * `troupe scan`: starts a scan on a host's HTTP port (`POST /scan/stream`) and streams its results
 * to the terminal as they arrive, over the scan's WebSocket: a table, or NDJSON with `--json`. On a
 * terminal a progress line with the live statistics is kept on stderr. Ctrl-C stops the scan on
 * the server (`POST /scan/stop/{id}`) and prints what came in; a scan that ended is released
 * (`DELETE /scan/{id}`) unless `--keep`. A WebSocket that drops mid-scan is reopened from the last
 * result received, so none is lost or printed twice.
 */
import process from "node:process";
import { followScanResults } from "../../actors/scan/mod.ts";
import { type Command, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, flag } from "../args.ts";
import { waitForSignal } from "../signals.ts";
import {
  DATA_DIR_DEFAULT,
  HTTP_URL_DEFAULT,
  HTTP_URL_FILE,
} from "../../actors/cluster/data_dir/mod.ts";
import { DATA_DIR_OPTION } from "../data_dir_option.ts";
import { ScanView, type Stats } from "../scan_view.ts";
import { hostAccess, scanRequest } from "../scan_request.ts";
import { HTTP_TOKEN_ENV } from "../http_settings.ts";
import { decodeScanStarted, decodeScanStats, type ScanStarted } from "../../protocol/mod.ts";

export const command: Command = {
  name: "scan",
  summary: "start a scan on a host and stream its results",
  takesArguments: true,
  usage: "CRITERIA [--rank EXPR] [--order desc|asc] [--bar SIZE] [--universe PREFIX|FILE] " +
    "[--max N] [--timeout MS] [--json] [--keep] [--url URL] [--data-dir DIR]",
  options: {
    rank: {
      type: "string",
      arg: "EXPR",
      help: "What orders the results, e.g. 'rsi(14)'",
      defaultText: "none, in the order found",
    },
    order: {
      type: "string",
      arg: "desc|asc",
      help: "Best first is highest (desc) or lowest (asc)",
      default: "desc",
      oneOf: ["desc", "asc"],
    },
    bar: { type: "string", arg: "SIZE", help: "Bar size: 1s, 1m, 5m, 1h, 1d", default: "1m" },
    universe: {
      type: "string",
      arg: "PREFIX|FILE",
      help: "A file of symbols (one a line, or comma-separated), else a symbol prefix",
      defaultText: "every symbol the hosts hold",
    },
    max: {
      type: "string",
      arg: "N",
      help: "Stop after N signals",
      defaultText: "no limit",
      number: { min: 1, integer: true },
    },
    timeout: {
      type: "string",
      arg: "MS",
      help: "Stop after MS milliseconds",
      defaultText: "when every symbol is scanned",
      number: { min: 1, integer: true },
    },
    json: { type: "boolean", help: "NDJSON on stdout, a result a line" },
    keep: {
      type: "boolean",
      help: "Keep the scan on the server after it ends",
      defaultText: "delete",
    },
    url: {
      type: "string",
      arg: "URL",
      help: "A host's HTTP port; http://USER:PASSWORD@HOST:PORT for one that asks basic auth " +
        `(${HTTP_TOKEN_ENV} gives a bearer token)`,
      defaultText:
        `troupe up's, from ${DATA_DIR_DEFAULT}/${HTTP_URL_FILE}, else ${HTTP_URL_DEFAULT}`,
    },
    "data-dir": DATA_DIR_OPTION,
  },
  details: `Examples:
  troupe scan 'rsi(14) < 30 and close > sma(200)' --rank 'rsi(14)' --bar 1m
  troupe scan 'close > highest(20)' --universe BTC --max 10 --json
The criteria language: numbers, open high low close volume, sma ema rsi macd(..).line|signal|hist
bollinger(..).upper|middle|lower|pct_b|bandwidth atr stoch(..).k|d volume_z return highest lowest,
+ - * /, < <= > >= == !=, and or not, crosses_above crosses_below.
Exit codes: 0 the scan ran (done, stopped or Ctrl-C), 1 it failed or no host answered, 2 a usage
error or a request the host refused (400, 413: the message names the field and the column).`,
  async run(args) {
    const request = scanRequest(args);
    const { base, auth } = hostAccess(args);
    // Listened for before the POST: a Ctrl-C while it is answered stops the scan it starts (with
    // the default action it would kill the process and leave the scan running on the server).
    const signalled = waitForSignal().then(() => "signal" as const);
    let started: Response;
    try {
      started = await fetch(`${base}/scan/stream`, {
        method: "POST",
        headers: { "content-type": "application/json", ...auth },
        body: JSON.stringify(request),
      });
    } catch (err) {
      console.error(
        `troupe scan: no host answers at ${base} (${causeOf(err)}); start one with troupe up, ` +
          "or pass --url",
      );
      return EXIT_FAILURE;
    }
    const text = await started.text().catch(() => "");
    if (started.status === 401) {
      console.error(
        `troupe scan: the host at ${base} refused the credentials (401): ${text.trim()}; set ` +
          `${HTTP_TOKEN_ENV} to its bearer token, or give its user and password in --url ` +
          "(http://USER:PASSWORD@HOST:PORT)",
      );
      return EXIT_FAILURE;
    }
    if (started.status !== 200) {
      console.error(`troupe scan: ${refusal(started.status, text, request)}`);
      return started.status === 400 || started.status === 413 ? EXIT_USAGE : EXIT_FAILURE;
    }
    let body: ScanStarted;
    try {
      body = decodeScanStarted(text);
    } catch (err) {
      console.error(`troupe scan: the host at ${base} answered the scan wrongly: ${causeOf(err)}`);
      return EXIT_FAILURE;
    }
    const { scanId } = body;
    const view = new ScanView({
      json: flag(args, "json"),
      tty: process.stderr.isTTY === true,
      out: (s) => process.stdout.write(s),
      err: (s) => process.stderr.write(s),
    });
    // Said at once, not only at the end: a long scan's results are known to be partial from the
    // start.
    view.partitionsMissing(body.partitions_missing);
    const end = showResults(body.websocketUrl, { view, auth });
    const progress = setInterval(() => {
      fetch(`${base}/scan/stats/${scanId}`, { headers: auth }).then((r) => r.text()).then(
        (s) => view.progress(decodeScanStats(s)),
        () => {},
      );
    }, 250);
    const outcome = await Promise.race([end, signalled]);
    let stats: Stats | undefined;
    // Ctrl-C: the scan stops on the server, whose end message brings the final statistics.
    if (outcome === "signal") {
      view.note(`\ntroupe scan: stopping scan ${scanId} on the server`);
      const stop = await fetch(`${base}/scan/stop/${scanId}`, { method: "POST", headers: auth })
        .catch(() => {});
      stats = await Promise.race([
        end,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 3000)),
      ]) ??
        (await stop?.text().then(decodeScanStats).catch(() => undefined));
    } else stats = outcome;
    clearInterval(progress);
    view.finish(stats);
    if (!flag(args, "keep")) {
      await fetch(`${base}/scan/${scanId}`, { method: "DELETE", headers: auth }).catch(() => {});
    }
    return stats?.state === "failed" || stats === undefined ? EXIT_FAILURE : EXIT_OK;
  },
};

/**
 * Shows the scan's results as they arrive over its WebSocket (reopened where a cut left them);
 * resolves with the final statistics, or undefined once why none came is said.
 */
function showResults(
  url: string,
  { view, auth }: { view: ScanView; auth: Record<string, string> },
): Promise<Stats | undefined> {
  return followScanResults(url, {
    headers: auth,
    onResult: (r) => view.result(r),
    onUnreadable: (why) => view.note(`troupe scan: a results message was refused: ${why}`),
  }).catch((err) => {
    view.note(`troupe scan: ${(err as Error).message}`);
    return undefined;
  });
}

/** A refusal's JSON (`{ error, field }`, not a scan answer), or its text as the error. */
function refusalOf(text: string): { error?: string; field?: string } {
  try {
    const v: unknown = JSON.parse(text);
    if (v !== null && typeof v === "object") return v as { error?: string; field?: string };
  } catch {
    // not JSON: the text itself says what was wrong
  }
  return { error: text };
}

function causeOf(err: unknown): string {
  const e = err as { cause?: { code?: string; message?: string }; message?: string };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}

/** The host's refusal, with the expression and a caret under the column it names. */
function refusal(status: number, text: string, request: Record<string, unknown>) {
  const body = refusalOf(text);
  const message = `the host refused the scan (${status}): ${body.error ?? JSON.stringify(body)}`;
  const col = /col (\d+)/.exec(body.error ?? "")?.[1];
  const expr = request[body.field ?? ""];
  if (col === undefined || typeof expr !== "string") return message;
  return `${message}\n  ${expr}\n  ${" ".repeat(Number(col) - 1)}^`;
}
