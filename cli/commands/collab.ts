/**
 * `troupe collab`: the collaboration server alone, until Ctrl-C, which closes every connection,
 * makes every document durable, compacts it and stops. Several servers given the same `--nats`
 * fan out to each other, so clients on any of them converge.
 */
import type { FsyncPolicy } from "../../actors/runtime/mod.ts";
import { launchCollab, type LaunchedCollab } from "../../collab/mod.ts";
import { type Command, EXIT_FAILURE, num, str, text, UsageError } from "../args.ts";
import { waitForSignal } from "../signals.ts";
import { NATS_AUTH_OPTIONS, NATS_AUTH_USAGE, natsAuthOf } from "../nats_auth_options.ts";

export const command: Command = {
  name: "collab",
  summary: "the collaboration server (y-websocket protocol, tokens, journal, NATS fan-out)",
  usage: "[--port P] [--host H] [--data-dir DIR] [--nats URL] [--node-id ID] " +
    "[--fsync never|interval|always] [--journal file|jetstream] [--kinds MODULES]" +
    NATS_AUTH_USAGE,
  options: {
    kinds: {
      type: "string",
      arg: "MODULES",
      help: "Modules of your own kinds (paths or packages, comma-separated): the dashboard shows " +
        "their findings as troupe's own",
      defaultText: "troupe's own kinds only",
    },
    port: {
      type: "string",
      arg: "P",
      help: "Port of ws://HOST:P/collab, the dashboard, /healthz, /metrics; 0: a free one",
      default: 1234,
      number: { min: 0, max: 65535, integer: true },
    },
    host: { type: "string", arg: "H", help: "Address to listen on", default: "127.0.0.1" },
    "data-dir": {
      type: "string",
      arg: "DIR",
      help: "Journal, snapshots and collab.secret",
      default: ".troupe",
    },
    nats: {
      type: "string",
      arg: "URL",
      help: "Fan out to other collab nodes over this NATS server",
      defaultText: "none, a single node",
    },
    ...NATS_AUTH_OPTIONS,
    "node-id": {
      type: "string",
      arg: "ID",
      help: "This node's name on NATS",
      defaultText: "random",
    },
    fsync: {
      type: "string",
      arg: "POLICY",
      help: "never (a killed process loses nothing), interval or always (power loss)",
      default: "never",
      oneOf: ["never", "interval", "always"],
    },
    journal: {
      type: "string",
      arg: "KIND",
      help: "file (in the data directory) or jetstream (in NATS: needs --nats, --node-id)",
      default: "file",
      oneOf: ["file", "jetstream"],
    },
  },
  details: `Examples:
  troupe collab --port 1234 --data-dir .troupe
  troupe collab --port 1235 --nats nats://127.0.0.1:4222 --node-id collab-2
Clients: new WebsocketProvider('ws://HOST:P/collab', SESSION, doc, { params: { token } }) with a
token from troupe token --session SESSION (same --data-dir); the dashboard is
http://HOST:P/?session=SESSION&token=TOKEN.`,
  async run(args) {
    const port = num(args, "port");
    // Each one of its spec's oneOf, checked as it is read.
    const fsync = text(args, "fsync") as FsyncPolicy;
    const nodeId = str(args, "node-id");
    const journal = text(args, "journal") as "file" | "jetstream";
    if (journal === "jetstream" && (str(args, "nats") === undefined || nodeId === undefined)) {
      throw new UsageError(
        "Option --journal jetstream needs --nats URL and --node-id ID (the same on every restart)",
      );
    }
    // Loading them declares their findings, which the dashboard's page is then given.
    if (str(args, "kinds") !== undefined) {
      await (await import("../kinds_option.ts")).kindsOption(str(args, "kinds"));
    }
    const host = text(args, "host");
    let launched: LaunchedCollab;
    try {
      launched = await launchCollab({
        dataDir: text(args, "data-dir"),
        port,
        host,
        nats: str(args, "nats"),
        natsAuth: natsAuthOf(args),
        fsync,
        journal,
        ...(nodeId !== undefined ? { nodeId } : {}),
      });
    } catch (err) {
      // A port in use, NATS unreachable, a data directory it cannot write: one line, as troupe
      // run says it (a stack trace is for bugs). Node's own messages name the code and address.
      const why = err instanceof Error ? err.message.split("\n")[0] : String(err);
      console.error(
        `troupe collab: cannot start the collaboration server on ${host}:${port}: ${why}`,
      );
      return EXIT_FAILURE;
    }
    const s = launched.server;
    const signalled = waitForSignal(); // listening before saying it runs (see run.ts)
    console.log(
      `troupe collab: ${s.url}/<session> (node ${s.nodeId}${
        launched.bus ? ", fan-out over NATS" : ""
      }${
        journal === "jetstream" ? ", journal in JetStream" : ""
      }); http://${s.origin}/healthz and /metrics` +
        (launched.stream ? `; stream gateway ws://${s.origin}/stream` : "") +
        `; dashboard http://${s.origin}/?session=SESSION&token=TOKEN (troupe token --session ` +
        "SESSION)",
    );
    const signal = await signalled;
    console.error(`troupe collab: ${signal}: closing`);
    await launched.close();
    return 0;
  },
};
