/**
 * Least privilege on the bus: the NATS users of a troupe cluster, one per role, each allowed only
 * the subjects its role publishes and subscribes to. This table is the one source: `troupe up`
 * writes its nats-server's users from it, docs/security.md shows it (a test checks the page
 * against it), and the tests start servers with it. Incident control (ack, silence) is published
 * only by the collaboration bridge and the operator; the hosts answer it.
 */
import {
  areaPattern,
  COLLAB_JOURNAL_SUBJECT_PREFIX,
  INCIDENT_CONTROL_SUBJECT,
  INCIDENT_STALE_SUBJECT,
  reqSubject,
  SCAN_PATTERN,
  SCORE_INCIDENT_SUBJECT,
  SCORE_OUTPUT_PATTERN,
  SUBJECT_ROOT,
  sysSubject,
} from "../../../protocol/mod.ts";

/** The roles of the processes that talk over NATS. */
export const NATS_ROLES = ["host", "receiver", "bridge", "operator", "viewer"] as const;

/** A role: host, receiver, bridge (collaboration server), operator or viewer (CLI). */
export type NatsRole = typeof NATS_ROLES[number];

/**
 * The subjects a role may publish and subscribe to (NATS permissions). A role that answers
 * requests publishes to `_INBOX.>`: none has NATS's `allow_responses`, under which nats-server
 * (2.9) keeps every reply subject of the messages its user receives, a JetStream delivery's ack
 * subject among them, and past 4,096 walks them all on each delivery (`pruneReplyPerms`), which
 * on a host's connection, fed by JetStream consumers, is every delivery (docs/security.md).
 */
export interface NatsPermissions {
  publish: { allow: string[]; deny?: string[] };
  subscribe: { allow: string[] };
}

/** Every reply inbox: JetStream's answers and a request's replies come to one. */
const INBOX = "_INBOX.>";

/** JetStream's account information, asked before the first JetStream call. */
const JS_INFO = "$JS.API.INFO";

/** The names of the streams that capture a subject (inject asks which keeps its feed). */
const JS_STREAM_NAMES = "$JS.API.STREAM.NAMES";

/**
 * The JetStream API subjects that read stream `stream`: its info, its messages (direct or not),
 * and consumers of it (created, asked for the next message, acknowledged, flow-controlled).
 */
function readStream(stream: string): string[] {
  return [
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.>`,
    `$JS.API.CONSUMER.DELETE.${stream}.>`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.>`,
    `$JS.ACK.${stream}.>`,
    `$JS.FC.${stream}.>`,
  ];
}

/** What reading stream `stream` takes, and creating or updating it (its owner's). */
function ownStream(stream: string): string[] {
  return [
    ...readStream(stream),
    `$JS.API.STREAM.CREATE.${stream}`,
    `$JS.API.STREAM.UPDATE.${stream}`,
  ];
}

/** A key-value bucket's stream, and its keys' subjects for `put`. */
function ownBucket(bucket: string): string[] {
  return [...ownStream(`KV_${bucket}`), `$KV.${bucket}.>`];
}

/** The feed stream (edge/feed_stream.ts), the receiver's journal. */
const FEED_STREAM_NAME = "TROUPE_FEED";
/** The findings stream (transport/findings_stream.ts), which watch and the incident stage read. */
const FINDINGS_STREAM_NAME = "TROUPE_FINDINGS";
/** The receiver's book of channels' source labels (ingest/channel_labels_book.ts). */
const CHANNEL_LABELS_BUCKET_NAME = "troupe_channel_labels";
/** The hosts' lease bucket (cluster/lease_bucket.ts), which `troupe status` reads. */
const LEASE_BUCKET_NAME = "troupe_leases";

const ALL = `${SUBJECT_ROOT}.>`;

/** The role → permissions table. */
export const NATS_ROLE_PERMISSIONS: Readonly<Record<NatsRole, NatsPermissions>> = {
  // A host runs actors, journals, snapshots, leases and the incident stage: all of troupe's
  // subjects and JetStream (it creates the streams and buckets), but it never sends control. It
  // answers on reply inboxes, several times to one request (a kind-wide ctl is answered by each
  // partition a host runs).
  host: {
    publish: {
      allow: [ALL, "$JS.API.>", "$JS.ACK.>", "$JS.FC.>", "$KV.>", INBOX],
      deny: [INCIDENT_CONTROL_SUBJECT],
    },
    subscribe: { allow: [ALL, INBOX] },
  },
  // The remote-write and OTLP receiver journals feeds into the feed stream, books channels'
  // labels, watches the anomaly scores of its channels (score_watch.ts), and tells the incident
  // stage which channels went stale, on a subject of its own: it may not ack or silence.
  receiver: {
    publish: {
      allow: [
        areaPattern("feed"),
        INCIDENT_STALE_SUBJECT,
        JS_INFO,
        ...ownStream(FEED_STREAM_NAME),
        ...ownBucket(CHANNEL_LABELS_BUCKET_NAME),
      ],
    },
    subscribe: { allow: [SCORE_OUTPUT_PATTERN, SCORE_INCIDENT_SUBJECT, INBOX] },
  },
  // The collaboration bridge relays troupe's subjects to browsers, fans documents out between
  // collab nodes, journals them in JetStream, turns thresholds into ctl messages and the
  // dashboard's acks and silences into incident control; it asks the actors for their settings.
  bridge: {
    publish: {
      allow: [
        areaPattern("collab"),
        areaPattern("ctl"),
        `${SUBJECT_ROOT}.sys.collab.>`,
        sysSubject("settings", "query"),
        reqSubject("collab") + ".>",
        reqSubject("incidents") + ".>",
        reqSubject("alerts") + ".>",
        `${COLLAB_JOURNAL_SUBJECT_PREFIX}.>`,
        "$JS.API.>",
        "$JS.ACK.>",
        "$JS.FC.>",
        "$KV.troupe_collab_snapshots.>",
        INBOX,
      ],
    },
    subscribe: { allow: [ALL, INBOX] },
  },
  // The operator's commands: inject feeds, change actors (ctl), run scans, ack and silence
  // incidents, and all the viewer reads.
  operator: {
    publish: {
      allow: [
        areaPattern("feed"),
        areaPattern("ctl"),
        SCAN_PATTERN,
        reqSubject("incidents") + ".>",
        reqSubject("alerts") + ".>",
        sysSubject("snapshots", "ask"),
        JS_INFO,
        JS_STREAM_NAMES,
        ...readStream(FEED_STREAM_NAME),
        ...readStream(FINDINGS_STREAM_NAME),
        ...readStream(`KV_${LEASE_BUCKET_NAME}`),
      ],
    },
    subscribe: { allow: [ALL, INBOX] },
  },
  // The viewer's commands (status, record, incidents list, watch) read and ask, never change:
  // record asks the hosts to snapshot, so that a replay of the recording starts from state.
  viewer: {
    publish: {
      allow: [
        reqSubject("incidents", "list"),
        sysSubject("snapshots", "ask"),
        reqSubject("alerts", "status"),
        JS_INFO,
        JS_STREAM_NAMES,
        ...readStream(FINDINGS_STREAM_NAME),
        ...readStream(`KV_${LEASE_BUCKET_NAME}`),
      ],
    },
    subscribe: { allow: [ALL, INBOX] },
  },
};

/** How a user of a nats-server configuration proves who it is. */
export type NatsUserCredential = { nkey: string } | { user: string; password: string };

/**
 * The `authorization` block of a nats-server configuration giving each of `users` its role's
 * permissions. Roles may repeat (two operators) and be left out (no viewer).
 */
export function natsAuthorizationConfig(
  users: ReadonlyArray<{ role: NatsRole; credential: NatsUserCredential }>,
): string {
  const lines = users.map(({ role, credential }) => {
    const who = "nkey" in credential
      ? `nkey: ${JSON.stringify(credential.nkey)}`
      : `user: ${JSON.stringify(credential.user)}, password: ${
        JSON.stringify(credential.password)
      }`;
    return `    { ${who}, permissions: ${permissionsConfig(NATS_ROLE_PERMISSIONS[role])} }`;
  });
  return `authorization {\n  users: [\n${lines.join(",\n")}\n  ]\n}\n`;
}

function permissionsConfig(p: NatsPermissions): string {
  const list = (subjects: readonly string[]) => `[${subjects.map((s) => JSON.stringify(s))}]`;
  const publish = p.publish.deny === undefined
    ? `{ allow: ${list(p.publish.allow)} }`
    : `{ allow: ${list(p.publish.allow)}, deny: ${list(p.publish.deny)} }`;
  return `{ publish: ${publish}, subscribe: { allow: ${list(p.subscribe.allow)} } }`;
}

/** The table as Markdown, the one docs/security.md shows: role, publish, subscribe. */
export function natsRolesMarkdown(): string {
  const code = (subjects: readonly string[]) => subjects.map((s) => `\`${s}\``).join(" ");
  const rows = NATS_ROLES.map((role) => {
    const p = NATS_ROLE_PERMISSIONS[role];
    const deny = p.publish.deny ? `; denied: ${code(p.publish.deny)}` : "";
    return `| ${role} | ${code(p.publish.allow)}${deny} | ${code(p.subscribe.allow)} |`;
  });
  return ["| role | publish | subscribe |", "| --- | --- | --- |", ...rows].join("\n");
}
