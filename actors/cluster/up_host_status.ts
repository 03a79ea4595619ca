/**
 * The host a plain `troupe up` runs, as its /healthz tells it: found through its data directory's
 * http.url, it owns every partition without a lease and runs up's incident stage beside it. The
 * same shape as a leased cluster's status (actors/runtime's leaseStatus), its lease fields null,
 * with how the host is.
 */
import { describeError } from "../runtime/mod.ts";
import { HTTP_URL_FILE, resolveHttpUrl } from "./data_dir/mod.ts";

/** troupe up's own host, which holds no lease (`troupe status --json`). */
export interface UpHostStatus {
  ttl_ms: null;
  hosts: Array<{ host: string; http_port: number; partitions: number[]; ok: boolean }>;
  partitions: Array<{ partition: number; owner: string; epoch: null; renewed_ms: null }>;
  incident_stage: { owner: string; epoch: null; renewed_ms: null };
  /**
   * How the host is: /healthz's reasons when not ok, its instances by status, and its channels
   * against its limit (how many more fit) when it says.
   */
  health: {
    ok: boolean;
    ready: boolean;
    reasons: string[];
    instances: Record<string, number>;
    channels?: { admitted: number; max: number; free: number };
  };
}

/**
 * The host a plain `troupe up` started in `dataDir`, from its /healthz; or why there is none to
 * show.
 */
export async function upHostStatus(dataDir: string): Promise<UpHostStatus | { why: string }> {
  let found;
  try {
    found = resolveHttpUrl(undefined, dataDir);
  } catch (err) {
    return { why: (err as Error).message };
  }
  if (found.from !== "file") return { why: `no troupe up in ${dataDir} (no ${HTTP_URL_FILE})` };
  const url = found.url;
  let body: Record<string, unknown>;
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) });
    body = await res.json() as Record<string, unknown>;
  } catch (err) {
    return { why: `troupe up's host at ${url} does not answer (${describeError(err)})` };
  }
  const host = typeof body.host === "string" ? body.host : "?";
  const parts = body.partitions as { count?: number; owned?: number[] } | undefined;
  const owned = Array.isArray(parts?.owned) ? parts.owned : [];
  const port = Number(new URL(url).port);
  const health: UpHostStatus["health"] = {
    ok: body.ok === true,
    ready: body.ready === true,
    reasons: Array.isArray(body.reasons) ? body.reasons.map(String) : [],
    instances: (body.instances ?? {}) as Record<string, number>,
  };
  const channels = body.channels as Record<string, unknown> | undefined;
  if (
    typeof channels?.admitted === "number" && typeof channels.max === "number" &&
    typeof channels.free === "number"
  ) {
    health.channels = { admitted: channels.admitted, max: channels.max, free: channels.free };
  }
  return {
    ttl_ms: null,
    hosts: [{ host, http_port: port, partitions: owned, ok: health.ok }],
    partitions: owned.map((p) => ({ partition: p, owner: host, epoch: null, renewed_ms: null })),
    incident_stage: { owner: host, epoch: null, renewed_ms: null },
    health,
  };
}
