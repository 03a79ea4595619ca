/**
 * `troupe status`: the cluster's hosts and who owns which partition, as the lease bucket
 * `troupe_leases` shows them (hosts started with `troupe run --partitions auto`), and each host's
 * channels against its limit, from its /healthz. With no bucket, the host of a plain `troupe up`
 * or `troupe run` (found through its data directory's http.url), which owns its partitions for
 * good: its /healthz says which, and how it is.
 */
import { connect } from "@nats-io/transport-node";
import {
  describeError,
  ignoreErrorsAfterDestroy,
  LeaseBucket,
  type LeaseStatus,
  leaseStatus,
  type LeaseView,
  natsAuthOptions,
  natsServerList,
} from "../../actors/runtime/mod.ts";
import { INCIDENT_STAGE_NAME } from "../../protocol/mod.ts";
import { type Command, EXIT_FAILURE, flag, text } from "../args.ts";
import type { UnleasedHostStatus } from "../../actors/cluster/mod.ts";
import { DATA_DIR_OPTION } from "../data_dir_option.ts";
import { credentialsHint, isAuthorizationError } from "../connect_nats.ts";
import { describeNatsUrl, NATS_OPTION } from "../nats_url.ts";
import { NATS_AUTH_OPTIONS, NATS_AUTH_USAGE, resolveNats } from "../nats_auth_options.ts";
import { channelRoomLine, fetchChannelRoom, type HostChannelRoom } from "../host_channel_room.ts";

/** Each host's channels against its limit, or why they cannot be read, by host id. */
type Rooms = ReadonlyMap<string, HostChannelRoom | { why: string }>;

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
        "started_ms, renewed_ms, http_port?, partitions, channels }, channels { admitted, max, " +
        "free } or null (its /healthz unread), partitions { partition, owner, epoch, " +
        "renewed_ms }, incident_stage { owner, epoch, renewed_ms } or null",
    },
  },
  details: `Examples:
  troupe status                              the cluster of troupe up's NATS (or 4222)
  troupe status --nats nats://10.0.0.5:4222 --json
  troupe status --data-dir .troupe/host-1    a troupe run host's, by its data_dir
Hosts started with troupe run --partitions auto share partitions by lease in the NATS
key-value bucket troupe_leases; a host there is alive (its key is renewed every heartbeat and
expires one lease TTL after its last); one of them runs the incident stage, under the lease
stage.incidents. With no such bucket it shows the host of a plain troupe up or troupe run (found
through http.url in --data-dir: troupe run's is its data_dir), which owns its partitions without
leases and runs the incident stage when it owns partition 0.
Under each host: its channels against its limit and how many more fit, from its /healthz (a
leased host's on 127.0.0.1, at the port its heartbeat names).
Exit codes: 0 shown, 1 NATS unreachable or no host found.`,
  async run(args) {
    const dataDir = text(args, "data-dir");
    const nats = resolveNats(args, "viewer");
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
        `troupe status: cannot connect to NATS at ${describeNatsUrl(nats)}: ${describeError(err)}` +
          (isAuthorizationError(err) ? `. ${credentialsHint(nats)}` : ""),
      );
      return EXIT_FAILURE;
    }
    try {
      const bucket = await LeaseBucket.existing(nc);
      if (!bucket) {
        // Loaded when asked: the cluster's room is more than the leases' path needs.
        const { unleasedHostStatus } = await import("../../actors/cluster/mod.ts");
        const up = await unleasedHostStatus(dataDir);
        if (!("why" in up)) {
          const hosts = up.hosts.map((h) => ({ ...h, channels: up.health.channels ?? null }));
          if (flag(args, "json")) console.log(JSON.stringify({ ...up, hosts }));
          else console.log(unleasedHostText(up));
          return 0;
        }
        console.error(
          `troupe status: no host shares partitions by lease at ${describeNatsUrl(nats)} (no ` +
            `bucket troupe_leases; start hosts with troupe run --partitions auto), and ${up.why}`,
        );
        return EXIT_FAILURE;
      }
      const view = await bucket.view();
      const lease = leaseStatus(view, bucket.ttlMs, await bucket.stageLease(INCIDENT_STAGE_NAME));
      const rooms = await hostRooms(lease.hosts);
      if (flag(args, "json")) {
        const hosts = lease.hosts.map((h) => {
          const room = rooms.get(h.host)!;
          return { ...h, channels: "why" in room ? null : room };
        });
        console.log(JSON.stringify({ ...lease, hosts }));
      } else console.log(statusText(view, Date.now(), { lease, rooms }));
      return 0;
    } finally {
      await nc.close().catch(() => {});
    }
  },
};

/** Each leased host's room, its /healthz asked on 127.0.0.1 (every host's at once). */
async function hostRooms(hosts: LeaseStatus["hosts"]): Promise<Rooms> {
  const rooms = await Promise.all(
    hosts.map((h) =>
      h.http_port === undefined
        ? { why: "it serves no /healthz (no http_port)" }
        : fetchChannelRoom(`http://127.0.0.1:${h.http_port}`)
    ),
  );
  return new Map(hosts.map((h, i) => [h.host, rooms[i]!]));
}

/**
 * The table `troupe status` prints: `lease`, the bucket's status (leaseStatus) of `view`, and
 * under each host its room from `rooms`, when given.
 */
export function statusText(
  view: LeaseView,
  nowMs: number,
  o: { lease: LeaseStatus; rooms?: Rooms },
): string {
  const j = o.lease;
  const ttlMs = j.ttl_ms;
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
    const room = o.rooms?.get(h.host);
    if (room !== undefined) lines.push(channelRoomLine(room));
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

/** The lines `troupe status` prints for a host without leases. */
function unleasedHostText(s: UnleasedHostStatus): string {
  const h = s.hosts[0]!;
  const running = Object.entries(s.health.instances).filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${status}`).join(", ") || "no actor instance yet";
  const lines = [
    `1 host, owning ${h.partitions.length} partition${
      h.partitions.length === 1 ? "" : "s"
    } without leases`,
    `  ${h.host}  partitions ${h.partitions.join(",") || "none"}  (${
      h.ok ? "healthy" : "unhealthy"
    }; actors ${running}; http://127.0.0.1:${h.http_port}/metrics)`,
  ];
  const c = s.health.channels;
  if (c !== undefined) lines.push(channelRoomLine(c));
  for (const r of s.health.reasons) lines.push(`    ${r}`);
  lines.push(
    s.incident_stage
      ? `  incident stage: on ${h.host} (beside the host that owns partition 0)`
      : `  incident stage: not on ${h.host} (it runs beside the host that owns partition 0)`,
  );
  return lines.join("\n");
}
