/**
 * `troupe status`: the cluster's hosts and who owns which partition, as the lease bucket
 * `troupe_leases` shows them (hosts started with `troupe run --partitions auto`). With no bucket,
 * the host of a plain `troupe up` (found through its data directory's http.url), which owns its
 * partitions for good: its /healthz says which, and how it is.
 */
import { connect } from "@nats-io/transport-node";
import {
  describeError,
  type HeldStageLease,
  ignoreErrorsAfterDestroy,
  LeaseBucket,
  leaseStatus,
  type LeaseView,
  natsAuthOptions,
  natsServerList,
} from "../../actors/runtime/mod.ts";
import { INCIDENT_STAGE_NAME } from "../../protocol/mod.ts";
import { type Command, EXIT_FAILURE, flag, text } from "../args.ts";
import type { UpHostStatus } from "../../actors/cluster/mod.ts";
import { DATA_DIR_OPTION } from "../data_dir_option.ts";
import { describeNatsUrl, NATS_OPTION } from "../nats_url.ts";
import { NATS_AUTH_OPTIONS, NATS_AUTH_USAGE, resolveNats } from "../nats_auth_options.ts";

export const command: Command = {
  name: "status",
  summary: "the cluster's hosts, who owns which partition and who runs the incident stage " +
    "(leases)",
  usage: "[--nats URL] [--data-dir DIR] [--json]" + NATS_AUTH_USAGE,
  options: {
    nats: NATS_OPTION,
    ...NATS_AUTH_OPTIONS,
    "data-dir": DATA_DIR_OPTION,
    json: {
      type: "boolean",
      help: "Print { hosts, partitions, incident_stage, ttl_ms } as JSON: hosts { host, " +
        "started_ms, renewed_ms, http_port?, partitions }, partitions { partition, owner, epoch, " +
        "renewed_ms }, incident_stage { owner, epoch, renewed_ms } or null",
    },
  },
  details: `Examples:
  troupe status                              the cluster of troupe up's NATS (or 4222)
  troupe status --nats nats://10.0.0.5:4222 --json
Hosts started with troupe run --partitions auto share partitions by lease in the NATS
key-value bucket troupe_leases; a host there is alive (its key is renewed every heartbeat and
expires one lease TTL after its last); one of them runs the incident stage, under the lease
stage.incidents. With no such bucket it shows the host of a plain troupe up (found through
http.url in --data-dir), which owns its partitions without leases and runs up's incident stage.
Exit codes: 0 shown, 1 NATS unreachable or no host found.`,
  async run(args) {
    const dataDir = text(args, "data-dir");
    const nats = resolveNats(args, "viewer", dataDir);
    let nc;
    ignoreErrorsAfterDestroy();
    try {
      nc = await connect({
        servers: natsServerList(nats.url),
        name: "troupe-status",
        ...natsAuthOptions(nats.auth),
      });
    } catch (err) {
      console.error(
        `troupe status: cannot connect to NATS at ${describeNatsUrl(nats)}: ${describeError(err)}`,
      );
      return EXIT_FAILURE;
    }
    try {
      const bucket = await LeaseBucket.existing(nc);
      if (!bucket) {
        // Loaded when asked: the cluster's room is more than the leases' path needs.
        const { upHostStatus } = await import("../../actors/cluster/mod.ts");
        const up = await upHostStatus(dataDir);
        if (!("why" in up)) {
          if (flag(args, "json")) console.log(JSON.stringify(up));
          else console.log(upHostText(up));
          return 0;
        }
        console.error(
          `troupe status: no host shares partitions by lease at ${describeNatsUrl(nats)} (no ` +
            `bucket troupe_leases; start hosts with troupe run --partitions auto), and ${up.why}`,
        );
        return EXIT_FAILURE;
      }
      const view = await bucket.view();
      const stage = await bucket.stageLease(INCIDENT_STAGE_NAME);
      if (flag(args, "json")) console.log(JSON.stringify(leaseStatus(view, bucket.ttlMs, stage)));
      else console.log(statusText(view, bucket.ttlMs, Date.now(), stage));
      return 0;
    } finally {
      await nc.close().catch(() => {});
    }
  },
};

/** The table `troupe status` prints. */
export function statusText(
  view: LeaseView,
  ttlMs: number,
  nowMs: number,
  stage?: HeldStageLease,
): string {
  const j = leaseStatus(view, ttlMs, stage);
  const lines = [
    `${j.hosts.length} host${
      j.hosts.length === 1 ? "" : "s"
    }, ${j.partitions.length} partitions held (lease TTL ${ttlMs} ms)`,
  ];
  for (const h of j.hosts) {
    const ago = ((nowMs - h.renewed_ms) / 1000).toFixed(1);
    lines.push(
      `  ${h.host}  partitions ${h.partitions.join(",") || "none"}  (heartbeat ${ago} s ago${
        h.http_port === undefined ? "" : `; http://127.0.0.1:${h.http_port}/metrics`
      })`,
    );
  }
  const orphans = j.partitions.filter((p) => !j.hosts.some((h) => h.host === p.owner));
  for (const p of orphans) {
    lines.push(`  partition ${p.partition}: held by ${p.owner}, which has no heartbeat (dying?)`);
  }
  const s = j.incident_stage;
  lines.push(
    s === null
      ? "  incident stage: no host holds its lease (stage.incidents)"
      : `  incident stage: on ${s.owner} (lease stage.incidents, epoch ${s.epoch})`,
  );
  for (const d of view.damaged) lines.push(`  ${d.key}: unreadable (${d.reason})`);
  return lines.join("\n");
}

/** The lines `troupe status` prints for troupe up's own host. */
function upHostText(s: UpHostStatus): string {
  const h = s.hosts[0]!;
  const running = Object.entries(s.health.instances).filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${status}`).join(", ") || "no actor instance yet";
  const lines = [
    `1 host, troupe up's, owning ${h.partitions.length} partition${
      h.partitions.length === 1 ? "" : "s"
    } without leases`,
    `  ${h.host}  partitions ${h.partitions.join(",") || "none"}  (${
      h.ok ? "healthy" : "unhealthy"
    }; actors ${running}; http://127.0.0.1:${h.http_port}/metrics)`,
  ];
  const c = s.health.channels;
  if (c !== undefined) {
    lines.push(
      `    channels ${c.admitted} of ${c.max}: ${c.free} more fit (limits.channels_max, by ` +
        `default what limits.memory_budget_mb holds)`,
    );
  }
  for (const r of s.health.reasons) lines.push(`    ${r}`);
  lines.push(`  incident stage: on ${h.host} (troupe up runs it beside its host)`);
  return lines.join("\n");
}
