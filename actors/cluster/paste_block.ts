/**
 * The `remote_write` block for prometheus.yml (and an OpenTelemetry Collector) that sends to a
 * metrics receiver, with the credentials it asks.
 */
import type { IngestSettings } from "../ingest/mod.ts";

/** What to paste into prometheus.yml (and an OpenTelemetry Collector) to send to `url`. */
export function pasteBlock(url: string, settings: IngestSettings): string {
  // JSON's strings are YAML's double-quoted scalars: a quote or backslash in a password is kept.
  const q = (text: string) => JSON.stringify(text);
  const auth = settings.bearerToken !== undefined
    ? [`    authorization:`, `      credentials: ${q(settings.bearerToken)}`]
    : settings.basicAuth !== undefined
    ? [
      `    basic_auth:`,
      `      username: ${q(settings.basicAuth.username)}`,
      `      password: ${q(settings.basicAuth.password)}`,
    ]
    : [];
  return [
    "# prometheus.yml",
    "remote_write:",
    `  - url: ${url}/api/v1/write`,
    ...auth,
    "    metadata_config:",
    "      send_interval: 1m",
  ].join("\n");
}
