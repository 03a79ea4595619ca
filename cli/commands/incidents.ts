/**
 * `troupe incidents`: the incidents the cluster's incident stage holds (its open ones and its
 * recently resolved ones), asked for on `troupe.sys.incidents.list` over NATS, as a table or as
 * JSON. `--state` keeps one state.
 */
import { NatsBus } from "../../actors/runtime/mod.ts";
import {
  BusRequestError,
  decodeIncidentList,
  encodeEnvelope,
  type Incident,
  INCIDENT_STATES,
  incidentListSubject,
} from "../../protocol/mod.ts";
import { formatIncident, incidentJson } from "../../collab/mod.ts";
import { type Command, EXIT_FAILURE, EXIT_OK, flag, num, str, UsageError } from "../args.ts";
import { describeNatsUrl, NATS_OPTION_HELP, resolveNatsUrl } from "../nats_url.ts";

export const command: Command = {
  name: "incidents",
  summary: "the incidents: findings grouped, pending, firing or resolved",
  usage: "[--state pending|firing|resolved] [--json] [--nats URL] [--timeout MS]",
  options: {
    state: {
      type: "string",
      arg: "STATE",
      help: `Only incidents in this state: ${INCIDENT_STATES.join(", ")} (default all)`,
    },
    json: { type: "boolean", help: "One JSON array of incidents" },
    nats: { type: "string", arg: "URL", help: NATS_OPTION_HELP },
    timeout: {
      type: "string",
      arg: "MS",
      help: "How long to wait for the incident stage's answer (default 2000)",
    },
  },
  details: `An incident groups the findings of one kind (anomaly, collapse, coherence) that
started within a grouping window across channels: a crash over 8 symbols is one incident with 8
members. It is pending, then firing once it has lasted its 'for' duration and its severity (1-5)
or its members clear the bar, then resolved after a hold with no new finding ('dropped' when it
resolved without firing). troupe up runs the incident stage; troupe watch prints incidents live.
Examples:
  troupe incidents
  troupe incidents --state firing --json
Exit codes: 0 listed, 1 no incident stage answered, 2 a usage error.`,
  async run(args) {
    const state = str(args, "state");
    if (state !== undefined && !(INCIDENT_STATES as readonly string[]).includes(state)) {
      throw new UsageError(
        `Option --state takes ${INCIDENT_STATES.join(", ")}, got "${state}"`,
      );
    }
    const timeout = num(args, "timeout", 2000, { min: 1, integer: true });
    const nats = resolveNatsUrl(str(args, "nats"));
    let bus: NatsBus;
    try {
      bus = await NatsBus.connect(nats.url, { name: "troupe-incidents" });
    } catch (err) {
      console.error(
        `troupe incidents: cannot connect to NATS at ${describeNatsUrl(nats)}: ` +
          `${(err as Error).message}. Is troupe up running?`,
      );
      return EXIT_FAILURE;
    }
    let incidents: Incident[];
    try {
      const nowMs = Date.now();
      const ask = encodeEnvelope({
        id: `incidents-${nowMs.toString(36)}`,
        type: "list",
        src: "troupe-incidents",
        ts: nowMs * 1000,
        body: null,
      });
      incidents = decodeIncidentList(
        (await bus.request(incidentListSubject(), ask, { timeout })).data,
      );
    } catch (err) {
      if (!(err instanceof BusRequestError)) throw err;
      console.error(
        `troupe incidents: no incident stage answered on ${incidentListSubject()} within ` +
          `${timeout} ms at ${describeNatsUrl(nats)} (${err.message}); troupe up runs one`,
      );
      return EXIT_FAILURE;
    } finally {
      await bus.close().catch(() => {});
    }
    const shown = state === undefined ? incidents : incidents.filter((i) => i.state === state);
    if (flag(args, "json")) {
      console.log(JSON.stringify(shown.map((i) => incidentJson(i, i.last_us))));
    } else if (shown.length === 0) {
      console.log(`troupe incidents: none${state === undefined ? "" : ` ${state}`}`);
    } else {
      for (const i of shown) console.log(formatIncident(i, i.first_us));
    }
    return EXIT_OK;
  },
};
