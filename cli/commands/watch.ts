/**
 * `troupe watch`: the terminal view of what the actors find, through the stream gateway. By
 * default the incidents (a line when one opens, fires, gains a member or severity, or resolves;
 * silenced ones are not shown); with `--findings`, one readable line per finding (time, kind,
 * channel, what, how strong). NDJSON with `--json`, for people who live in a terminal and for
 * scripts. Next to `troupe up` it needs no options: up
 * writes the gateway's URL and a viewer token to `<data dir>/collab.json`. It reconnects and
 * resumes where it left off; what the gateway could not keep is said on stderr.
 */
import process from "node:process";
import { WebSocket as NodeWebSocket } from "ws";
import {
  findingsOf,
  findingSubscriptions,
  StreamClient,
  type StreamClientOptions,
  type StreamSocketConstructor,
} from "../../collab/mod.ts";
import { decodeIncident } from "../../protocol/mod.ts";
import type { Command } from "../args.ts";
import { COLLAB_FILE, DATA_DIR_DEFAULT } from "../../actors/cluster/data_dir/mod.ts";
import { parseWatchArgs, type WatchOptions } from "../watch_options.ts";
import { printerFor } from "../watch_printer.ts";
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
  for (const s of findingSubscriptions(o)) client.subscribe(s);
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
