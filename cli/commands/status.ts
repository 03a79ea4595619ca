/**
 * `troupe status`: the cluster's hosts and who owns which partition, as the lease bucket
 * `troupe_leases` shows them (hosts started with `troupe run --partitions auto`).
 */
import { connect } from "@nats-io/transport-node";
import {
  describeError,
  type HeldStageLease,
  LeaseBucket,
  type LeaseView,
} from "../../actors/runtime/mod.ts";
import { INCIDENT_STAGE_NAME } from "../../protocol/mod.ts";
import { type Command, EXIT_FAILURE, flag, str } from "../args.ts";
import { describeNatsUrl, NATS_OPTION, resolveNatsUrl } from "../nats_url.ts";

export const command: Command = {
  name: "status",
  summary: "the cluster's hosts, who owns which partition and who runs the incident stage " +
    "(leases)",
  usage: "[--nats URL] [--json]",
  options: {
    nats: NATS_OPTION,
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
stage.incidents. Exit codes: 0 shown, 1 NATS unreachable or no leased host.`,
  async run(args) {
    const nats = resolveNatsUrl(str(args, "nats"));
    let nc;
    try {
      nc = await connect({ servers: nats.url, name: "troupe-status" });
    } catch (err) {
      console.error(
        `troupe status: cannot connect to NATS at ${describeNatsUrl(nats)}: ${describeError(err)}`,
      );
      return EXIT_FAILURE;
    }
    try {
      const bucket = await LeaseBucket.existing(nc);
      if (!bucket) {
        console.error(
          `troupe status: no host shares partitions by lease at ${
            describeNatsUrl(nats)
          } (no bucket troupe_leases; start hosts with troupe run --partitions auto)`,
        );
        return EXIT_FAILURE;
      }
      const view = await bucket.view();
      const stage = await bucket.stageLease(INCIDENT_STAGE_NAME);
      if (flag(args, "json")) console.log(JSON.stringify(statusJson(view, bucket.ttlMs, stage)));
      else console.log(statusText(view, bucket.ttlMs, Date.now(), stage));
      return 0;
    } finally {
      await nc.close().catch(() => {});
    }
  },
};

/** What `--json` prints. */
export function statusJson(view: LeaseView, ttlMs: number, stage?: HeldStageLease) {
  const leases = [...view.leases.values()].map((h) => h.lease).sort((a, b) =>
    a.partition - b.partition
  );
  return {
    ttl_ms: ttlMs,
    hosts: view.hosts.map((h) => ({
      host: h.host,
      started_ms: h.startedMs,
      renewed_ms: h.renewedMs,
      ...(h.httpPort === undefined ? {} : { http_port: h.httpPort }),
      partitions: leases.filter((l) => l.owner === h.host).map((l) => l.partition),
    })),
    partitions: leases.map((l) => ({
      partition: l.partition,
      owner: l.owner,
      epoch: l.epoch,
      renewed_ms: l.renewedMs,
    })),
    incident_stage: stage === undefined
      ? null
      : { owner: stage.lease.owner, epoch: stage.lease.epoch, renewed_ms: stage.lease.renewedMs },
  };
}

/** The table `troupe status` prints. */
export function statusText(
  view: LeaseView,
  ttlMs: number,
  nowMs: number,
  stage?: HeldStageLease,
): string {
  const j = statusJson(view, ttlMs, stage);
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
