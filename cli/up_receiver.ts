/**
 * `troupe up --feed remote-write`'s receiver options: its port, the series it takes (`--match`),
 * its bearer token and the query API a new series' history is read from (`--history-url`).
 * Secure by default: without `--token` (or `TROUPE_REMOTE_WRITE_TOKEN`) a token is generated once
 * and kept in the data directory (actors/cluster/up_receiver.ts).
 */
import process from "node:process";
import {
  checkHistoryUrl,
  parseIngestSettings,
  readPreset,
  type SeriesPreset,
} from "../actors/ingest/mod.ts";
import { checkToken, ConfigError } from "../protocol/mod.ts";
import { given, type OptionSpec, optNum, type ParsedArgs, str, UsageError } from "./args.ts";
import { envToken, REMOTE_WRITE_TOKEN_ENV } from "./http_settings.ts";
import { RECEIVER_BLOCK_FILE } from "../actors/cluster/data_dir/mod.ts";
import {
  UP_RECEIVER_PORT,
  UP_RECEIVER_TOKEN_FILE,
  type UpReceiverSettings,
} from "../actors/cluster/mod.ts";

/** The options of `troupe up` that set the receiver (with `--feed remote-write` only). */
export const UP_RECEIVER_OPTIONS: Record<string, OptionSpec> = {
  "remote-write-port": {
    type: "string",
    arg: "N",
    help: "With --feed remote-write: the metrics receiver's port; 0: a free one",
    defaultText: `${UP_RECEIVER_PORT}, or a free one when it is taken`,
    number: { min: 0, max: 65535, integer: true },
  },
  match: {
    type: "string",
    arg: "SELECTOR",
    multiple: true,
    help: "With --feed remote-write: take only the series a selector such as " +
      `'{job="node"}' or 'node_load1{instance=~"db.*"}' matches (repeatable: any of them)`,
    defaultText: "every series",
  },
  preset: {
    type: "string",
    arg: "NAME",
    help: 'With --feed remote-write: "node" watches of node exporter\'s node_* series only its ' +
      "indicators (CPU by mode, load, memory available, disk I/O time, filesystem space, network " +
      'traffic, drops and errors, pressure; --match naming a metric adds it back); "none" every ' +
      "series --match takes",
    defaultText: "node",
  },
  token: {
    type: "string",
    arg: "TOKEN",
    help: "With --feed remote-write: the bearer token the receiver asks of every request but " +
      `/healthz (${REMOTE_WRITE_TOKEN_ENV} gives one without showing it to ps); the block for ` +
      `prometheus.yml, with it, is written to DIR/${RECEIVER_BLOCK_FILE}`,
    defaultText: `generated once, kept in DIR/${UP_RECEIVER_TOKEN_FILE}`,
  },
  "history-url": {
    type: "string",
    arg: "URL",
    help: "With --feed remote-write: the Prometheus-compatible query API (Prometheus, " +
      "VictoriaMetrics) a new series' last day is read from (URL/api/v1/query_range), so its " +
      "detectors start warm; a failed read is said and the series warms up live",
    defaultText: "none: each series warms up on its live samples",
  },
};

/** Reads the receiver's options; a bad one, or one without `--feed remote-write`, is refused. */
export function upReceiverSettings(args: ParsedArgs, feedKind: string): UpReceiverSettings {
  if (feedKind !== "remote-write") {
    for (const name of Object.keys(UP_RECEIVER_OPTIONS)) {
      if (given(args, name)) {
        throw new UsageError(
          `Option --${name} sets the metrics receiver, which runs with --feed remote-write ` +
            `only, got --feed ${feedKind}`,
        );
      }
    }
  }
  const raw = args.values.match;
  const match = raw === undefined ? [] : Array.isArray(raw) ? raw.map(String) : [String(raw)];
  try {
    parseIngestSettings({ match }, "--match");
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new UsageError(`Option ${err.message.replace(/^--match\[\d+\]: /, "--match: ")}`);
  }
  let token = str(args, "token");
  if (token !== undefined) {
    try {
      checkToken(token, "Option --token");
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  token ??= envToken(process.env, REMOTE_WRITE_TOKEN_ENV);
  let historyUrl = str(args, "history-url");
  if (historyUrl !== undefined) {
    try {
      historyUrl = checkHistoryUrl(historyUrl, "Option --history-url");
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const presetName = str(args, "preset");
  let preset: SeriesPreset | undefined;
  if (presetName !== undefined) {
    try {
      preset = readPreset(presetName, "Option --preset");
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  return { port: optNum(args, "remote-write-port"), match, preset, token, historyUrl };
}
