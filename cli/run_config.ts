/**
 * `troupe run`'s configuration: the file `--config` names (or the defaults), with the command
 * line over it (NATS URL and credentials, data directory, partitions, HTTP port and address), and
 * what cannot go together said before anything starts.
 */
import process from "node:process";
import {
  checkNatsUrl,
  type HostConfig,
  leaseSettings,
  mergeNatsAuth,
  parsePartitions,
} from "../actors/runtime/mod.ts";
import { ConfigError } from "../protocol/mod.ts";
import { type HostSetup, loadHostConfig } from "../actors/cluster/mod.ts";
import { flag, optNum, type ParsedArgs, str, UsageError } from "./args.ts";
import { natsAuthOf } from "./nats_auth_options.ts";
import { applyHttpSettings, openHttpWarning } from "./http_settings.ts";

/** The host's configuration from `--config`, or undefined when it is wrong (said on stderr). */
export async function readRunConfig(args: ParsedArgs): Promise<HostSetup | undefined> {
  const nats = natsOption(args);
  try {
    const setup = await loadHostConfig(str(args, "config"), nats === undefined ? {} : { nats });
    if (setup.config.nats !== undefined && setup.config.input === "core") {
      console.error(
        `troupe run: input "core": frames sent while host ${setup.config.host_id} is down or ` +
          'behind are lost (at most once); without "input": "core" it reads them from JetStream',
      );
    }
    return setup;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const where = str(args, "config");
    console.error(`troupe run: ${where ? `${where}: ` : ""}${err.message}`);
    return undefined;
  }
}

/** The --nats URL, checked, or undefined. */
function natsOption(args: ParsedArgs): string | undefined {
  const nats = str(args, "nats");
  if (nats === undefined) return undefined;
  try {
    return checkNatsUrl(nats, "--nats");
  } catch (err) {
    throw new UsageError((err as Error).message.replace('Field "--nats"', "Option --nats"));
  }
}

/** The command line over the file: NATS credentials, --data-dir, --partitions, --http-port, ... */
export function applyRunOptions(config: HostConfig, args: ParsedArgs): void {
  // The command line, then the environment, then the URL's and the file's "nats" section.
  config.nats_auth = mergeNatsAuth(natsAuthOf(args), config.nats_auth);
  const dataDir = str(args, "data-dir");
  if (dataDir !== undefined) config.data_dir = dataDir;
  const parts = str(args, "partitions");
  if (parts?.trim() === "auto") {
    config.partitions.leases ??= leaseSettings();
  } else if (parts !== undefined) {
    delete config.partitions.leases;
    try {
      config.partitions.owned = parsePartitions(parts, config.partitions.count);
    } catch (err) {
      // Its numbers count in the file's partitions.count (1 without a file): say where that is.
      const file = str(args, "config");
      throw new UsageError(
        `Option --partitions: ${(err as Error).message} (${
          file === undefined
            ? 'without a config file there is 1; set "partitions": { "count": N } in one'
            : `partitions.count is ${config.partitions.count} in ${file}`
        })`,
      );
    }
  }
  const httpPort = optNum(args, "http-port");
  if (httpPort !== undefined) config.http_port = httpPort;
  applyHttpSettings(config, { host: str(args, "http-host"), env: process.env });
  const open = openHttpWarning(config);
  if (open !== undefined) console.error(`troupe run: warning: ${open}`);
  if (flag(args, "accept-journal-loss")) config.accept_journal_loss = true;
}

/** A host whose journal others cannot read cannot hand its partitions on: it keeps them all. */
export function keepAllPartitions(config: HostConfig, why: string): void {
  console.error(
    `troupe run: host ${config.host_id}: ${why}; it keeps static ownership of all ` +
      `${config.partitions.count} partitions`,
  );
  delete config.partitions.leases;
  config.partitions.owned = parsePartitions("all", config.partitions.count);
}
