/**
 * A host that holds no lease (a plain `troupe up`'s, or a `troupe run` without `--partitions
 * auto`), as its /healthz tells it: found through its data directory's http.url (both write it),
 * it owns its partitions for good, and runs the incident stage beside it when it owns partition 0.
 * The same shape as a leased cluster's status (actors/runtime's leaseStatus), its lease fields
 * null, with how the host is.
 */
import { describeError } from "../runtime/mod.ts";
import { HTTP_URL_FILE, resolveHttpUrl } from "./data_dir/mod.ts";

/** A host that holds no lease (`troupe status --json`). */
export interface UnleasedHostStatus {
  ttl_ms: null;
  hosts: Array<{ host: string; http_port: number; partitions: number[]; ok: boolean }>;
  partitions: Array<{ partition: number; owner: string; epoch: null; renewed_ms: null }>;
  /** Beside the host when it owns partition 0; null when it does not. */
  incident_stage: { owner: string; epoch: null; renewed_ms: null } | null;
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
 * The host without leases whose data directory is `dataDir`, from its /healthz; or why there is
 * none to show.
 */
export async function unleasedHostStatus(
  dataDir: string,
): Promise<UnleasedHostStatus | { why: string }> {
  let found;
  try {
    found = resolveHttpUrl(undefined, dataDir);
  } catch (err) {
    return { why: (err as Error).message };
  }
  if (found.from !== "file") {
    return {
      why: `no troupe up or troupe run in ${dataDir} (no ${HTTP_URL_FILE}: each writes it ` +
        `while it serves HTTP)`,
    };
  }
  const url = found.url;
  let body: Record<string, unknown>;
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) });
    body = await res.json() as Record<string, unknown>;
  } catch (err) {
    return { why: `the host at ${url} (${HTTP_URL_FILE}) does not answer (${describeError(err)})` };
  }
  const host = typeof body.host === "string" ? body.host : "?";
  const parts = body.partitions as { count?: number; owned?: number[] } | undefined;
  const owned = Array.isArray(parts?.owned) ? parts.owned : [];
  const port = Number(new URL(url).port);
  const health: UnleasedHostStatus["health"] = {
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
    incident_stage: owned.includes(0) ? { owner: host, epoch: null, renewed_ms: null } : null,
    health,
  };
}
