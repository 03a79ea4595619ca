/**
 * `troupe ctl`: changes an actor kind's configuration at run time. It sends the control message
 * (an envelope of type `config` whose body is the fields to change) as a request on
 * `troupe.ctl.<kind>[.<key>]`, and prints the answer: an acknowledgement (exit 0), or the refusal
 * with the host's reason (exit 1). A keyed change is answered by its owner alone; a kind-wide one
 * by every host and every thread of a threaded host, each for its own instances, so ctl gathers
 * those answers (`askControl`) and prints their sum (`readControlAnswers`). Every other host
 * passes (it runs no actor of the kind, or does not own the key's partition): when only passes
 * come, ctl says at once that no host runs the kind and what the hosts run. The host validates the
 * fields against the kind's current configuration and journals an accepted change like any input,
 * so replay sees it too.
 */
import { ACTOR_KINDS } from "../../actors/mod.ts";
import { kindsOption } from "../kinds_option.ts";
import {
  answeredByAddressee,
  askControl,
  describeControlApplied,
  describeHosts,
  describePasses,
  readControlAnswers,
} from "../../actors/runtime/mod.ts";
import {
  type BusMessage,
  BusRequestError,
  ConfigError,
  ctlSubject,
  encodeEnvelope,
  ProtocolError,
} from "../../protocol/mod.ts";
import {
  type Command,
  EXIT_FAILURE,
  EXIT_OK,
  num,
  type ParsedArgs,
  str,
  UsageError,
} from "../args.ts";
import { describeNatsUrl, NATS_OPTION } from "../nats_url.ts";
import { connectNats } from "../connect_nats.ts";
import { DATA_DIR_OPTION } from "../data_dir_option.ts";
import { NATS_AUTH_OPTIONS, NATS_AUTH_USAGE, resolveNats } from "../nats_auth_options.ts";

export const command: Command = {
  name: "ctl",
  summary: "change an actor kind's configuration at run time",
  takesArguments: true,
  usage: "KIND [--key KEY] --set FIELD=VALUE [--set FIELD=VALUE ...] [--kinds MODULES] " +
    "[--nats URL] [--data-dir DIR] [--timeout MS]" + NATS_AUTH_USAGE,
  options: {
    key: {
      type: "string",
      arg: "KEY",
      help: "Only the instance of this key (a channel, or a coherence group)",
      defaultText: "every one",
    },
    set: {
      type: "string",
      arg: "FIELD=VALUE",
      multiple: true,
      help: "A field to change (required, repeatable); VALUE is read as a number, true/false, " +
        "null or JSON where it looks like one, else as text",
    },
    kinds: {
      type: "string",
      arg: "MODULES",
      help: "Modules of your own kinds (paths or packages, comma-separated): KIND may be one of " +
        "theirs, and the change is checked against its schema here too",
      defaultText: "troupe's own kinds only",
    },
    nats: NATS_OPTION,
    ...NATS_AUTH_OPTIONS,
    "data-dir": DATA_DIR_OPTION,
    timeout: {
      type: "string",
      arg: "MS",
      help: "How long to wait for the hosts' answers",
      default: 2000,
      number: { min: 1, integer: true },
    },
  },
  details: `Examples:
  troupe ctl anomaly --set threshold=0.4
  troupe ctl stats --key api-cpu --set every_samples=100
  troupe ctl coherence --set 'groups={"eq":["eq_*"]}'
A kind-wide change is answered by every host and thread running KIND: their answers are gathered
and printed as one line, the instances summed and the hosts named.
Exit codes: 0 every answering host accepted the change, 1 one refused it (the reason is printed)
or no host answered, 2 a usage error.`,
  async run(args) {
    const kinds = await kindsOption(str(args, "kinds"));
    const { kind, key, body } = parseCtl(args, kinds.registry);
    // A user's kind's change is checked here too, against its schema (a host checks it again,
    // over the configuration it holds, as it checks troupe's own kinds').
    const def = kinds.registry[kind]!;
    if (!(kind in ACTOR_KINDS)) {
      try {
        def.parseConfig(body, def.defaultConfig, `ctl.${kind}`);
      } catch (err) {
        if (err instanceof ConfigError) throw new UsageError(err.message);
        throw err;
      }
    }
    const timeout = num(args, "timeout");
    const nats = resolveNats(args, "operator");
    let subject: string;
    try {
      subject = ctlSubject(kind, key);
    } catch (err) {
      if (err instanceof ProtocolError) throw new UsageError(`Option --key: ${err.message}`);
      throw err;
    }
    const hint = "Is a host running? (troupe up starts one)";
    const bus = await connectNats(nats, { command: "ctl", hint });
    if (bus === undefined) return EXIT_FAILURE;
    const nowMs = Date.now();
    const request = encodeEnvelope({
      id: `ctl-${nowMs.toString(36)}-${Math.floor(Math.random() * 2 ** 32).toString(36)}`,
      type: "config",
      src: "troupe-ctl",
      ts: nowMs * 1000,
      body,
    });
    const what = `${kind}${key === undefined ? "" : ` ${key}`} ${JSON.stringify(body)}`;
    try {
      // A keyed message is applied by its owner alone; a kind-wide one by every host and thread.
      const replies = await askControl(bus, subject, request, {
        timeout,
        keyed: key !== undefined,
      });
      return reportAnswers(replies, kind, what);
    } catch (err) {
      if (!(err instanceof BusRequestError)) throw err;
      console.error(
        `troupe ctl: no host answered on ${subject} within ${timeout} ms at ` +
          `${describeNatsUrl(nats)} (${err.message}); is a host running the ${kind} actors?`,
      );
      return EXIT_FAILURE;
    } finally {
      await bus.close().catch(() => {});
    }
  },
};

/**
 * Prints what the answers say (control_answers.ts): one line for those that accepted (their
 * instances summed, the answering hosts named), one per reason for those that refused, one per
 * answer that cannot be read; when only passes came, one line saying that no host runs the kind
 * and what each runs. Exit 0 only when every answer from a host the message was for accepted.
 */
function reportAnswers(replies: BusMessage[], kind: string, what: string): number {
  const read = readControlAnswers(replies);
  if (!answeredByAddressee(read)) {
    console.error(`troupe ctl: ${what} not applied: ${describePasses(kind, read.passed)}`);
    return EXIT_FAILURE;
  }
  const taken = replies.length - read.passed.length;
  for (const why of read.unreadable) {
    console.error(`troupe ctl: the answer to ${what} cannot be read: ${why}`);
  }
  const applied = describeControlApplied(read.applied);
  if (taken === 1 && read.accepted.length === 1) {
    console.log(`troupe ctl: ${read.accepted[0]} accepted ${what}: ${applied}`);
    return EXIT_OK;
  }
  if (read.accepted.length > 0) {
    console.log(`troupe ctl: accepted ${what}: ${applied} on ${describeHosts(read.accepted)}`);
  }
  for (const { reason, hosts } of read.refused) {
    console.error(`troupe ctl: ${hosts.join(", ")} refused ${what}: ${reason}`);
  }
  return read.accepted.length === taken ? EXIT_OK : EXIT_FAILURE;
}

/** The kind, the key and the fields to change; throws UsageError naming what is wrong. */
export function parseCtl(
  args: ParsedArgs,
  registry: Readonly<Record<string, unknown>> = ACTOR_KINDS,
): { kind: string; key: string | undefined; body: Record<string, unknown> } {
  const [kind, ...extra] = args.positionals;
  if (kind === undefined) throw new UsageError("Name the actor kind: troupe ctl KIND --set F=V");
  if (extra.length > 0) throw new UsageError(`Unexpected argument "${extra[0]}"`);
  if (!(kind in registry)) {
    throw new UsageError(
      `Unknown actor kind "${kind}"; the kinds are ${
        Object.keys(registry).join(", ")
      } (a kind of your own: --kinds MODULE)`,
    );
  }
  const sets = (args.values.set ?? []) as string[];
  if (sets.length === 0) throw new UsageError("Option --set FIELD=VALUE is required");
  const body: Record<string, unknown> = {};
  for (const set of sets) {
    const eq = set.indexOf("=");
    if (eq <= 0) throw new UsageError(`Option --set must be FIELD=VALUE, got "${set}"`);
    const field = set.slice(0, eq).trim();
    if (field in body) throw new UsageError(`Option --set gives field "${field}" twice`);
    body[field] = parseValue(set.slice(eq + 1), field);
  }
  return { kind, key: str(args, "key"), body };
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A --set value: a number, a boolean, null or JSON where it looks like one, else the text. */
export function parseValue(raw: string, field: string): unknown {
  const text = raw.trim();
  if (NUMBER.test(text)) return Number(text);
  if (text === "true") return true;
  if (text === "false") return false;
  if (text === "null") return null;
  if (/^[[{"]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new UsageError(
        `Option --set ${field}: the value looks like JSON but is not (${
          (err as Error).message
        }), ` +
          `got ${raw}`,
      );
    }
  }
  return raw;
}
