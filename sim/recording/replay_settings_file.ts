/**
 * A file of actor settings a replay runs with over the recording's (`ReplayOptions.config`): a
 * JSON object of kinds, `{ "stats": { ... } }`, or a host's config file, whose `actors` section is
 * taken, so that the file a cluster runs with tries out on a recording as it is.
 */
import { readFileSync } from "node:fs";
import { ConfigError } from "../../protocol/mod.ts";

/** The settings by kind in the file at `path`; a ConfigError says why it cannot be read as such. */
export function readReplaySettings(path: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new ConfigError("", `cannot read ${path} as JSON: ${(err as Error).message}`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError("", `${path} must hold a JSON object of kinds`, { value: raw });
  }
  // A host config file works too: its "actors" section.
  const obj = raw as Record<string, unknown>;
  const actors = obj.actors;
  return actors !== null && typeof actors === "object" && !Array.isArray(actors)
    ? actors as Record<string, unknown>
    : obj;
}
