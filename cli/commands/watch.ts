/**
 * `troupe watch`: the terminal view of what the actors find, through the stream gateway. By
 * default the incidents (a line when one opens, fires, gains a member or severity, or resolves;
 * silenced ones are not shown); with `--findings`, one readable line per finding (time, kind,
 * channel, what, how strong). NDJSON with `--json`, for people who live in a terminal and for
 * scripts. Next to `troupe up` it needs no options: up
 * writes the gateway's URL and a viewer token to `<data dir>/collab.json`. It reconnects and
 * resumes where it left off; what the gateway could not keep is said on stderr.
 */
import { resolve } from "node:path";
import process from "node:process";
import { WebSocket as NodeWebSocket } from "ws";
import {
  compileChannelGlobs,
  type Finding,
  type FindingKindName,
  findingKindNames,
  findingsOf,
  findingSourcePatterns,
  findingUnit,
  formatFinding,
  formatIncident,
  incidentJson,
  incidentNews,
  isChannelFindingKind,
  severityAtLeast,
  StreamClient,
  type StreamClientOptions,
  type StreamSocketConstructor,
  type StreamSubscription,
} from "../../collab/mod.ts";
import { decodeIncident, type Incident, incidentSubject } from "../../protocol/mod.ts";
import {
  type Command,
  duration,
  flag,
  num,
  type ParsedArgs,
  str,
  text,
  UsageError,
} from "../args.ts";
import { COLLAB_FILE, readCollabFile } from "../collab_file.ts";
import { DATA_DIR_DEFAULT } from "../nats_url.ts";
import { waitForSignal } from "../signals.ts";

export const command: Command = {
  name: "watch",
  summary: "what the actors find, live: incidents (every finding with --findings), or NDJSON",
  usage: "[--findings] [--kinds anomaly,collapse,coherence,scan,dlq,actor] [--channel PATTERN] " +
    "[--min-severity N] [--json] [--url ws://HOST:PORT/stream] [--token T] [--data-dir DIR] " +
    "[--kind-modules a.ts,b.ts] [--duration S] [--count N]",
  options: {
    findings: {
      type: "boolean",
      help: "Every finding as it comes (the raw stream), not the incidents they make",
    },
    kinds: {
      type: "string",
      arg: "LIST",
      help: "Kinds of finding, comma-separated: those the actor kinds declare (incidents are of " +
        "these) and scan, dlq, actor",
      defaultText: "all",
    },
    "kind-modules": {
      type: "string",
      arg: "LIST",
      help: "Modules of your own kinds (paths or packages, comma-separated): their findings show " +
        "as troupe's own do",
      defaultText: `those troupe up names in ${COLLAB_FILE}`,
    },
    channel: {
      type: "string",
      arg: "PATTERN",
      help: "Only channels (groups, symbols) matching this glob, * = any run",
      defaultText: "all",
    },
    "min-severity": {
      type: "string",
      arg: "N",
      help: "Only findings of severity >= N, 1 to 5; scan hits have none and always pass",
      default: 1,
      number: { min: 1, max: 5, integer: true },
    },
    json: { type: "boolean", help: "One JSON object per line (NDJSON), gaps on stderr" },
    url: {
      type: "string",
      arg: "URL",
      help: "The gateway",
      defaultText: `the one troupe up wrote to ${DATA_DIR_DEFAULT}/${COLLAB_FILE}`,
    },
    token: { type: "string", arg: "T", help: "A session token, any role", defaultText: "up's" },
    "data-dir": {
      type: "string",
      arg: "DIR",
      help: "Where up's collab.json is",
      default: DATA_DIR_DEFAULT,
    },
    duration: {
      type: "string",
      arg: "S",
      help: "Stop after S seconds",
      default: 0,
      defaultText: "until Ctrl-C",
    },
    count: {
      type: "string",
      arg: "N",
      help: "Stop after N findings",
      default: 0,
      defaultText: "no limit",
      number: { min: 1, integer: true },
    },
  },
  details: `Without --findings it prints the incidents (troupe incidents --help says what they
are): a line when one opens, fires, gains a member or a higher severity, or resolves; a silenced
one is not shown. --findings prints every finding instead.
Examples:
  troupe watch                                   next to troupe up, from the same directory
  troupe watch --findings --kinds dlq,actor      dead letters and actor failures as they come
  troupe watch --kinds anomaly,collapse --channel 'SYM00*' --min-severity 3
  troupe watch --json --count 10 --url ws://127.0.0.1:1234/stream --token T
Severity, 1 (worth a glance) to 5 (act now), the number the dashboard shows: anomaly by its score
(5 at 0.9 and above), collapse by its shift in spreads (5 at 8), coherence by its shift in standard
deviations (5 at 4); a dead letter 2, an actor restarted 3, stopped 5. Mint a token for another
gateway with troupe token --session S --role viewer.`,
  async run(args) {
    const options = await parseWatchArgs(args);
    return await watch(options);
  },
};

interface WatchOptions {
  /** The raw findings, not the incidents. */
  findings: boolean;
  url: string;
  token: string;
  kinds: FindingKindName[];
  channel: string | undefined;
  minSeverity: number;
  json: boolean;
  durationS: number;
  count: number;
}

async function parseWatchArgs(args: ParsedArgs): Promise<WatchOptions> {
  const dataDir = text(args, "data-dir");
  let file;
  try {
    file = readCollabFile(dataDir);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  // The user's kinds declare their findings as they load: watch then reads them as troupe's own.
  const modules = str(args, "kind-modules");
  // Loaded only when named: the kinds' door brings troupe's own kinds with it.
  if (modules !== undefined) {
    await (await import("../host_kinds.ts")).kindsOption(modules, "--kind-modules");
  } else if (file?.kinds?.length) await loadCollabKinds(file.kinds, dataDir);
  const known = findingKindNames();
  const kinds = (str(args, "kinds") ?? known.join(",")).split(",").map((k) => k.trim());
  for (const k of kinds) {
    if (!known.includes(k)) {
      throw new UsageError(
        `Option --kinds takes ${known.join(", ")}, got "${k}" in "${str(args, "kinds")}"` +
          " (a kind of your own's findings: name its module in --kind-modules)",
      );
    }
  }
  const channel = str(args, "channel");
  if (channel !== undefined && (channel === "" || /[\s.]/.test(channel))) {
    throw new UsageError(
      `Option --channel must be a glob without dots or spaces, got "${channel}"`,
    );
  }
  const minSeverity = num(args, "min-severity");
  const durationS = duration(args, "duration");
  const count = num(args, "count");
  const url = str(args, "url") ?? file?.stream;
  const token = str(args, "token") ?? file?.token;
  if (url !== undefined && !/^wss?:\/\/[^/]+\/stream$/.test(url)) {
    throw new UsageError(`Option --url must be ws://HOST:PORT/stream, got "${url}"`);
  }
  // The file's token opens the file's gateway only: another --url needs its own (it once said
  // "pass --url" to a user who had).
  if (str(args, "url") !== undefined && token === undefined) {
    throw new UsageError(
      `Option --url ${url} needs --token T, a token of that server's (troupe token --session S ` +
        "--role viewer, with its --data-dir)",
    );
  }
  if (url === undefined || token === undefined) {
    throw new UsageError(
      `No gateway to watch: pass --url ws://HOST:PORT/stream and --token T, or run troupe up ` +
        `with --data-dir ${dataDir} (it writes ${dataDir}/${COLLAB_FILE})`,
    );
  }
  return {
    findings: flag(args, "findings"),
    url,
    token,
    kinds,
    channel,
    minSeverity,
    json: flag(args, "json"),
    durationS,
    count,
  };
}

/** Loads the kind modules `troupe up` named in collab.json; a UsageError names what failed. */
async function loadCollabKinds(files: readonly string[], dataDir: string): Promise<void> {
  const { hostKinds } = await import("../host_kinds.ts");
  try {
    await hostKinds(files, resolve("."), `${dataDir}/${COLLAB_FILE} kinds`);
  } catch (err) {
    throw new UsageError(`${(err as Error).message} (or name them in --kind-modules)`);
  }
}

/**
 * The gateway subscriptions for `o`: one for the channel kinds (filtered by the gateway), one for
 * the rest.
 */
function subscriptionsOf(o: WatchOptions): StreamSubscription[] {
  const subs: StreamSubscription[] = [];
  if (!o.findings) {
    const kinds = o.kinds.filter(isChannelFindingKind);
    return kinds.length ? [{ subjects: kinds.map((k) => incidentSubject(k)) }] : [];
  }
  // Findings of the declared kinds come on subjects that end in their channel (the gateway
  // filters those by --channel itself); the others do not.
  const byChannel = findingSourcePatterns(o.kinds.filter(isChannelFindingKind));
  const others = findingSourcePatterns(o.kinds.filter((k) => !isChannelFindingKind(k)));
  if (byChannel.length) {
    subs.push(o.channel ? { subjects: byChannel, channels: [o.channel] } : { subjects: byChannel });
  }
  if (others.length) subs.push({ subjects: others });
  return subs;
}

async function watch(o: WatchOptions): Promise<number> {
  let failure: string | undefined;
  let finish: (why: string) => void = () => {};
  const finished = new Promise<string>((resolve) => (finish = resolve));
  const print = printerFor(o, () => finish("count"));
  // A reader that went away (`troupe watch | head`) ends the watch quietly.
  process.stdout.on("error", () => finish("stdout closed"));
  const refusal = { status: 0, body: "" };
  const fail = (why: string, what: string) => {
    failure = what;
    finish(why);
  };
  const client = new StreamClient({
    url: o.url,
    token: o.token,
    WebSocket: webSocketFor(refusal),
    onMessage: (m) => {
      if (!o.findings) {
        const update = incidentOf(m.data);
        if (update) print.incident(update.incident, update.envelope.ts);
        return;
      }
      const nowUs = Date.now() * 1000;
      for (const f of findingsOf(m.subject, m.data, nowUs)) print.finding(f, m.seq);
    },
    onGap: (g) => {
      const line =
        `troupe watch: missed ${g.missed} messages (seq ${g.from}..${g.to}): the gateway no ` +
        `longer held them`;
      process.stderr.write((o.json ? JSON.stringify({ gap: g }) : line) + "\n");
    },
    onRefused: (_id, reason) => fail("refused", `the gateway refused the subscription: ${reason}`),
    onStatus: statusHandler(o.url, refusal, fail),
  });
  for (const s of subscriptionsOf(o)) client.subscribe(s);
  const why = await Promise.race([
    finished,
    waitForSignal(o.durationS > 0 ? o.durationS * 1000 : undefined),
  ]);
  client.close();
  if (failure) {
    process.stderr.write(`troupe watch: ${failure}\n`);
    return 1;
  }
  if (why === "SIGINT" || why === "SIGTERM") {
    process.stderr.write(
      `troupe watch: ${why}: ${print.shown()} ${
        o.findings ? "findings" : "incident changes"
      } shown\n`,
    );
  }
  return 0;
}

/**
 * What watch prints: the incidents or findings that pass its filters, until `--count` is reached.
 */
interface Printer {
  incident(i: Incident, tsUs: number): void;
  finding(f: Finding, seq: number): void;
  /** Lines printed so far. */
  shown(): number;
}

/** The printer for `o`, calling `onCount` once when it has printed `--count` lines. */
function printerFor(o: WatchOptions, onCount: () => void): Printer {
  const glob = o.channel ? compileChannelGlobs([o.channel])[0]! : undefined;
  const kinds = new Set(o.kinds);
  const lastShown = new Map<string, Incident>();
  let shown = 0;
  let done = false;
  const count = () => {
    shown++;
    if (o.count > 0 && shown >= o.count) {
      done = true;
      onCount();
    }
  };
  return {
    // Group wait, as Alertmanager's: a pending incident (it may be one finding of many to come,
    // or a blip that never fires) is not shown; it is shown once it fires, with its members so far.
    incident(i, tsUs) {
      if (done || i.state === "pending" || !(i.fired || lastShown.has(i.id))) return;
      if (glob && !i.members.some((m) => glob.test(m.channel))) return;
      if (!incidentNews(lastShown.get(i.id), i)) return;
      lastShown.set(i.id, i);
      if (i.state === "resolved") lastShown.delete(i.id);
      if (i.silenced || i.peak_severity < o.minSeverity) return;
      process.stdout.write(
        (o.json ? JSON.stringify(incidentJson(i, tsUs)) : formatIncident(i, tsUs)) + "\n",
      );
      count();
    },
    finding(f, seq) {
      if (done || !kinds.has(f.kind) || (glob && !glob.test(f.channel))) return;
      if (!severityAtLeast(f.severity, o.minSeverity)) return;
      process.stdout.write((o.json ? JSON.stringify(jsonOf(f, seq)) : formatFinding(f)) + "\n");
      count();
    },
    shown: () => shown,
  };
}

/**
 * The stream client's `onStatus` for the gateway at `url`: a close before the first open, or a
 * close for a reason retrying cannot mend, ends the watch through `fail`; any other close is said
 * on stderr and the client reconnects.
 */
function statusHandler(
  url: string,
  refusal: { status: number; body: string },
  fail: (why: string, what: string) => void,
): NonNullable<StreamClientOptions["onStatus"]> {
  let opened = false;
  return (status, detail) => {
    if (status === "open") opened = true;
    if (status !== "closed") return;
    if (!opened) {
      const why = refusal.status ? `HTTP ${refusal.status}: ${refusal.body.trim()}` : "no answer";
      fail("failed", `cannot connect to ${url} (${why})`);
    } else if (detail && [1003, 1007, 1008, 1009, 4008, 4401].includes(detail.code)) {
      fail("closed", `the gateway closed the stream (${detail.code}: ${detail.reason})`);
    } else {
      process.stderr.write(`troupe watch: connection lost (${detail?.code}); reconnecting\n`);
    }
  };
}

/**
 * The WebSocket to use: `ws`'s, on Node and Deno alike, because it says why an upgrade failed (the
 * status and body of a 401), which the standard WebSocket hides.
 */
function webSocketFor(refusal: { status: number; body: string }): StreamSocketConstructor {
  class Ws extends NodeWebSocket {
    constructor(url: string) {
      super(url);
      this.on("unexpected-response", (_req, res) => {
        refusal.status = res.statusCode ?? 0;
        res.on("data", (d: Buffer) => (refusal.body += d));
        res.on("end", () => this.terminate());
      });
    }
  }
  return Ws as unknown as StreamSocketConstructor;
}

/** An incident update, or undefined for what does not decode as one (said nowhere: not ours). */
function incidentOf(data: Uint8Array): ReturnType<typeof decodeIncident> | undefined {
  try {
    return decodeIncident(data);
  } catch {
    return undefined;
  }
}

function jsonOf(f: Finding, seq: number): Record<string, unknown> {
  return {
    time: new Date(f.ts_us / 1000).toISOString(),
    ts_us: f.ts_us,
    kind: f.kind,
    channel: f.channel,
    what: f.what,
    strength: f.strength,
    severity: f.severity,
    unit: findingUnit(f),
    subject: f.subject,
    seq,
    detail: Object.fromEntries(
      Object.entries(f.detail).map(([k, v]) => [k, v instanceof Uint8Array ? base64(v) : v]),
    ),
  };
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}
