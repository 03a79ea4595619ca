/**
 * The encodings of a receiver request's body (its `Content-Encoding`): remote write's is snappy
 * (the header may be left out), OTLP's gzip or none. A body in an encoding troupe does not read
 * is refused with 415, not read as if it were not encoded.
 */
import type { IncomingMessage } from "node:http";

/** How the body of a request to `api` is encoded, or why its encoding is refused. */
export function contentEncoding(
  headers: IncomingMessage["headers"],
  api: string,
): { gzip: boolean; refused?: string } {
  const given = (headers["content-encoding"] ?? "").trim().toLowerCase();
  if (given === "" || given === "identity") return { gzip: false };
  if (api === "remote_write" && given === "snappy") return { gzip: false };
  if (api === "otlp" && given === "gzip") return { gzip: true };
  const takes = api === "remote_write" ? "snappy (remote write 1.0)" : "gzip or none (OTLP/HTTP)";
  return {
    gzip: false,
    refused: `Unsupported Content-Encoding ${JSON.stringify(given)}: this endpoint takes ${takes}`,
  };
}
