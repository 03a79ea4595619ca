/**
 * The `--config` option of the benchmarks that run the collapse kernel (`collapse`, `cpd`): a JSON
 * object of collapse configuration fields over the kind's own, checked as the host checks them.
 */
import {
  type CollapseConfig,
  defaultCollapseConfig,
  parseCollapseConfig,
} from "../actors/collapse/mod.ts";
import { BenchOptionError } from "./_bench_option_error.ts";

/** The kernel's configuration: its own, with `--config`'s fields over it when given. */
export function collapseConfigOption(given: string | undefined): CollapseConfig {
  if (given === undefined) return defaultCollapseConfig;
  let raw: unknown;
  try {
    raw = JSON.parse(given);
  } catch {
    throw new BenchOptionError(`Option --config must be a JSON object, got "${given}"`);
  }
  return parseCollapseConfig(raw, defaultCollapseConfig, "--config");
}
