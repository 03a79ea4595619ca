/**
 * `troupe incidents`: the incidents the cluster's incident stage holds (its open ones and its
 * recently resolved ones), asked for on `troupe.req.incidents.list` over NATS, as a table or as
 * JSON. `--state` keeps one state. `ack`, `silence` and `unsilence` write the session document
 * (collab's client), where the whole session sees them and the bridge takes them to the stage.
 */
import {
  type AlertTargetDelivery,
  BusRequestError,
  type Incident,
  incidentListSubject,
} from "../../protocol/mod.ts";
import { askIncidentList } from "../../actors/incidents/mod.ts";
import { askAlertDelivery } from "../../actors/alerting/mod.ts";
import {
  ackIncident,
  ackJson,
  ackMarks,
  addSilence,
  alertMarks,
  alertsJson,
  endSilence,
  formatIncident,
  IncidentEditError,
  incidentJson,
  LINE_STATES,
  lineState,
  readSessionAcks,
  SessionDocError,
  SessionUnreachableError,
} from "../../collab/mod.ts";
import {
  type Command,
  EXIT_FAILURE,
  EXIT_OK,
  flag,
  given,
  num,
  type ParsedArgs,
  str,
  UsageError,
} from "../args.ts";
import { acksTarget, checkSilenceArgs, editTarget } from "../incident_edit_args.ts";
import { describeNatsUrl, NATS_OPTION } from "../nats_url.ts";
import { connectNats } from "../connect_nats.ts";
import { NATS_AUTH_OPTIONS, NATS_AUTH_USAGE, resolveNats } from "../nats_auth_options.ts";

/** How long an edit (ack, silence, unsilence) waits for the collab server, unless --timeout. */
const EDIT_TIMEOUT_MS = 5000;

export const command: Command = {
  name: "incidents",
  summary: "the incidents: findings grouped, pending, firing or resolved",
  usage: "[--state pending|firing|resolved|dropped] [--json] [--nats URL] [--timeout MS]\n" +
    "       | ack ID [--note TEXT] | silence MATCHERS --for 2h --reason TEXT | unsilence ID\n" +
    "       [--by NAME] [--url URL] [--session S] [--token T] [--data-dir DIR]" + NATS_AUTH_USAGE,
  takesArguments: true,
  options: {
    state: {
      type: "string",
      arg: "STATE",
      help: `Only incidents in this state, as the list shows it: ${LINE_STATES.join(", ")} ` +
        "(dropped: resolved without firing; resolved: after firing)",
      defaultText: "all",
    },
    json: {
      type: "boolean",
      help: "One JSON object per incident, a line each (NDJSON), as watch --json",
    },
    nats: NATS_OPTION,
    ...NATS_AUTH_OPTIONS,
    timeout: {
      type: "string",
      arg: "MS",
      help: `How long to wait for the incident stage's answer; edits wait ${EDIT_TIMEOUT_MS} ` +
        "unless given",
      default: 2000,
      number: { min: 1, integer: true },
    },
    note: {
      type: "string",
      arg: "TEXT",
      help: "ack: a note beside the acknowledgement",
      defaultText: "none",
    },
    for: {
      type: "string",
      arg: "DURATION",
      help: "silence: how long, such as 90m, 2h or 7d (required)",
    },
    reason: { type: "string", arg: "TEXT", help: "silence: why (required)" },
    by: {
      type: "string",
      arg: "NAME",
      help: "Edits: who, as the session shows it",
      defaultText: "$USER",
    },
    url: {
      type: "string",
      arg: "ws://HOST:PORT/collab",
      help: "The collab server whose session has the acks",
      defaultText: "troupe up's, from collab.json",
    },
    session: { type: "string", arg: "S", help: "The session", defaultText: "up's, main" },
    token: {
      type: "string",
      arg: "T",
      help: "A token of the session: an editor's for edits",
      defaultText: "up's viewer token to list, an editor's minted with the data directory's " +
        "keyring to edit",
    },
    "data-dir": { type: "string", arg: "DIR", help: "Where up's files are", default: ".troupe" },
  },
  details: `An incident groups the findings of one kind (anomaly, collapse, coherence) that
started within a grouping window across channels: a crash over 8 symbols is one incident with 8
members. It is pending, then firing once it has lasted its 'for' duration and its severity (1-5)
or its members clear the bar, then resolved after a hold with no new finding ('dropped' when it
resolved without firing). troupe up runs the incident stage; troupe watch prints incidents live.
The list shows each incident's acknowledgement from the session document (acked by WHO (NOTE);
with --json an "ack" object: by, at, at_ms, note, status; null when none), as the dashboard's
panel does; without a collab server it lists without them and says so on stderr. With alerting
configured (docs/alerting.md), each line also says per Alertmanager or webhook whether it holds the
incident's latest state (sent, owed, refused, silenced); --json adds an "alerts" object.

Acknowledgements and silences live in the session document, so the whole session sees them; an
editor or owner makes them (viewers cannot), here or on the dashboard's incidents panel:
  ack ID [--note TEXT]      acknowledge an incident the stage holds (an unknown ID is refused)
  silence MATCHERS --for D --reason TEXT
                            mark matching incidents silenced for D from now: still decided,
                            journaled and listed, left out of what troupe watch prints
  unsilence ID              end a silence now
MATCHERS are Alertmanager-style terms, all of which must hold: kind=anomaly, kind!=coherence,
channel=~SYM00* (a glob: * any run, ? one character), channel!~cpu-?; a channel term holds when
it holds for every member of the incident.
Examples:
  troupe incidents
  troupe incidents --state firing --json
  troupe incidents ack anomaly-1763900000000000-SYM001 --note "looking"
  troupe incidents silence kind=anomaly channel=~SYM00* --for 2h --reason "exchange maintenance"
  troupe incidents unsilence s1a2b3c
Exit codes: 0 listed or done, 1 no incident stage or collab server answered, the stage refused or
an unknown id, 2 a usage error (a bad matcher, a missing --for or --reason).`,
  async run(args) {
    if (args.positionals.length > 0) return await edit(args);
    const state = str(args, "state");
    if (state !== undefined && !(LINE_STATES as readonly string[]).includes(state)) {
      throw new UsageError(
        `Option --state takes ${LINE_STATES.join(", ")}, got "${state}"`,
      );
    }
    const timeout = num(args, "timeout");
    const nats = resolveNats(args, "viewer");
    const bus = await connectNats(nats, { command: "incidents", hint: "Is troupe up running?" });
    if (bus === undefined) return EXIT_FAILURE;
    // The acks live in the session document: read beside the stage's answer, not after it.
    const reading = readSessionAcks(acksTarget(args), timeout);
    let incidents: Incident[];
    let delivery: AlertTargetDelivery[] | undefined;
    try {
      const src = "troupe-incidents";
      incidents = await askIncidentList(bus, { timeoutMs: timeout, src, nowMs: Date.now() });
      // None runs without alerting configured: the list goes without it.
      delivery = await askAlertDelivery(bus, { timeoutMs: timeout, src, nowMs: Date.now() })
        .catch(() => undefined);
    } catch (err) {
      if (!(err instanceof BusRequestError)) throw err;
      console.error(
        err.noResponders
          ? `troupe incidents: no incident stage runs: nothing subscribes to ` +
            `${incidentListSubject()} at ${describeNatsUrl(nats)} (NATS: no responders); ` +
            `troupe up runs one`
          : `troupe incidents: no incident stage answered on ${incidentListSubject()} within ` +
            `${timeout} ms at ${describeNatsUrl(nats)} (${err.message}); troupe up runs one`,
      );
      return EXIT_FAILURE;
    } finally {
      await bus.close().catch(() => {});
    }
    const session = await reading;
    if ("missing" in session) {
      console.error(`troupe incidents: acknowledgements not shown: ${session.missing}`);
    }
    const ackOf = (i: Incident) => "acks" in session ? session.acks.get(i.id) : undefined;
    const shown = state === undefined ? incidents : incidents.filter((i) => lineState(i) === state);
    if (flag(args, "json")) {
      const json = (i: Incident) => ({
        ...incidentJson(i, i.last_us),
        ...("acks" in session ? { ack: ackJson(ackOf(i)) } : {}),
        ...(delivery ? { alerts: alertsJson(delivery, i.id) } : {}),
      });
      for (const i of shown) console.log(JSON.stringify(json(i)));
    } else if (shown.length === 0) {
      console.log(`troupe incidents: none${state === undefined ? "" : ` ${state}`}`);
    } else {
      for (const i of shown) {
        const marks = [...ackMarks(ackOf(i)), ...alertMarks(delivery, i.id)];
        console.log(formatIncident(i, i.first_us, { marks }));
      }
    }
    return EXIT_OK;
  },
};

/** `ack ID`, `silence MATCHERS`, `unsilence ID`: writes the session document, prints the answer. */
async function edit(args: ParsedArgs): Promise<number> {
  const [verb, ...rest] = args.positionals;
  const timeout = given(args, "timeout") ? num(args, "timeout") : EDIT_TIMEOUT_MS;
  const one = (what: string) => {
    if (rest.length !== 1) {
      throw new UsageError(`troupe incidents ${verb} takes one ${what}, got ${rest.length}`);
    }
    return rest[0]!;
  };
  let run: (t: Awaited<ReturnType<typeof editTarget>>) => Promise<string>;
  if (verb === "ack") {
    const id = one("incident id");
    run = (t) => ackIncident(t, id, str(args, "note") ?? "");
  } else if (verb === "unsilence") {
    const id = one("silence id");
    run = (t) => endSilence(t, id);
  } else if (verb === "silence") {
    const forText = str(args, "for");
    const reason = str(args, "reason");
    if (rest.length === 0) {
      throw new UsageError("troupe incidents silence takes MATCHERS, got none");
    }
    if (forText === undefined) {
      throw new UsageError("troupe incidents silence needs --for DURATION");
    }
    if (reason === undefined) throw new UsageError("troupe incidents silence needs --reason TEXT");
    const forS = checkSilenceArgs(rest.join(" "), { for: forText, reason });
    run = (t) => addSilence(t, rest.join(" "), { forS, reason });
  } else {
    throw new UsageError(
      `troupe incidents takes ack, silence or unsilence, got "${verb}"`,
    );
  }
  try {
    console.log(`troupe incidents: ${await run(await editTarget(args, timeout))}`);
    return EXIT_OK;
  } catch (err) {
    // The document's schema refusing the edit is the user's input: a usage error (exit 2).
    if (err instanceof SessionDocError) throw new UsageError(err.message);
    if (!(err instanceof IncidentEditError || err instanceof SessionUnreachableError)) throw err;
    console.error(`troupe incidents: ${err.message}`);
    return EXIT_FAILURE;
  }
}
