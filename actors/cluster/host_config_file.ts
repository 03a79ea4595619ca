/**
 * A host's configuration file as `troupe run` and `troupe record` read it: JSON, the kind modules
 * it names loaded from the file's folder, the command line's overrides over it, and every section
 * a part of the cluster reads checked before anything starts.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ACTOR_KINDS } from "../mod.ts";
import { type HostConfig, type HostConfigOverrides, parseHostConfig } from "../runtime/mod.ts";
import { parseIngestSettings } from "../ingest/mod.ts";
import { ConfigError } from "../../protocol/mod.ts";
import { incidentConfigOf } from "./cluster_incidents.ts";
import { alertingConfigOf } from "./stage_alerting.ts";
import { BUILT_IN_KINDS, type HostKinds, hostKinds, kindSpecsOf } from "./kinds/mod.ts";

/** A host's configuration and the kinds it runs (troupe's own and those its `kinds` name). */
export interface HostSetup {
  config: HostConfig;
  kinds: HostKinds;
}

/**
 * Reads and parses a host config file, loading the kind modules it names (paths from the file's
 * folder), with the command line's `overrides` over it; a mistake is reported with the path and
 * the field.
 */
export async function loadHostConfig(
  path: string | undefined,
  overrides: HostConfigOverrides = {},
): Promise<HostSetup> {
  if (path === undefined) {
    return { config: parseHostConfig({}, ACTOR_KINDS, overrides), kinds: BUILT_IN_KINDS };
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError("", `Cannot read config file ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError("", `Config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  // Its kind modules' relative paths are read from the file's folder.
  const kinds = await hostKinds(kindSpecsOf(raw), dirname(resolve(path)));
  const config = parseHostConfig(raw, kinds.registry, overrides);
  incidentConfigOf(config); // fail early: the stage starts only on partition 0's host
  if (config.remote_write) parseIngestSettings(config.remote_write); // and the receiver's
  alertingConfigOf(config);
  return { config, kinds };
}
