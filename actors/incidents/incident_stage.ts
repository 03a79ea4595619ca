/**
 * The incident stage: the incident kernel fed by the findings the actors publish, its updates
 * published on `troupe.out.incident.<kind>`. It is a stage after the actors, not an actor of its
 * own: its input is the actors' findings, which are outputs of journaled inputs and so already
 * exactly reproducible, and its state is their fold. Live, one stage runs per cluster (`troupe up`
 * starts it beside the host); a replay runs one over the replayed findings, so `troupe replay
 * --verify` compares the incidents as it compares every other output. It needs no clock: time is
 * the findings' event time.
 */
import {
  type Bus,
  type BusSubscription,
  decodeEnvelope,
  encodeIncident,
  findingSeverity,
  type Incident,
  INCIDENT_KINDS,
  incidentSubject,
  isIncidentKind,
  outPattern,
} from "../../protocol/mod.ts";
import type { IncidentConfig } from "./config.ts";
import {
  flushIncidents,
  type IncidentFinding,
  type IncidentKernelState,
  type IncidentUpdate,
  initIncidents,
  openIncidents,
  resilence,
  stepIncidents,
} from "./incident_kernel.ts";

/** The envelope `src` of incident updates. */
export const INCIDENT_SRC = "incidents";

/** The finding an actor's event envelope carries, or undefined for data and other messages. */
export function incidentFindingOf(data: Uint8Array): IncidentFinding | undefined {
  let env;
  try {
    env = decodeEnvelope(data);
  } catch {
    return undefined; // not ours to judge: the dead-letter queue names bad messages
  }
  if (!isIncidentKind(env.type)) return undefined;
  const body = (env.body ?? {}) as Record<string, unknown>;
  const channel = env.type === "coherence" ? body.group : body.channel;
  if (typeof channel !== "string") return undefined;
  return {
    id: env.id,
    kind: env.type,
    channel,
    ts_us: env.ts,
    severity: findingSeverity(env.type, body),
  };
}

/** The bytes of an incident update, with its deterministic envelope id. */
export function encodeIncidentUpdate(u: IncidentUpdate): { subject: string; data: Uint8Array } {
  return {
    subject: incidentSubject(u.incident.kind),
    data: encodeIncident(
      {
        id: `${u.incident.id}:${u.n}`,
        src: INCIDENT_SRC,
        ts: u.ts_us,
        cause: u.incident.last_finding,
      },
      u.incident,
    ),
  };
}

/** What a stage is given. */
export interface IncidentStageOptions {
  config: IncidentConfig;
  /** Where each update goes (a bus publish, a replay's output collector). */
  publish: (subject: string, data: Uint8Array) => void;
  /** Whether an incident is silenced now (the session's silences); none by default. */
  silenced?: (incident: Incident) => boolean;
}

/** The kernel with its publishing: fed findings' bytes, it publishes the updates they make. */
export class IncidentStage {
  readonly #state: IncidentKernelState;
  readonly #publish: IncidentStageOptions["publish"];
  readonly #counts = new Map<string, number>();
  readonly #wasFiring = new Set<string>();

  constructor(options: IncidentStageOptions) {
    this.#state = initIncidents(options.config, options.silenced ?? (() => false));
    this.#publish = options.publish;
  }

  /** A message on `troupe.out.<kind>.<key>`: a finding is taken, anything else passed over. */
  take(data: Uint8Array): void {
    const f = incidentFindingOf(data);
    if (f) this.#emit(stepIncidents(this.#state, f));
  }

  /** Takes the findings held for ordering (the end of a replay or a feed). */
  flush(ts_us?: number): void {
    this.#emit(flushIncidents(this.#state, ts_us));
  }

  /** The silences changed: open incidents are marked (or unmarked) silenced. */
  silencesChanged(): void {
    this.#emit(resilence(this.#state));
  }

  /** Open incidents, oldest first. */
  open(): Incident[] {
    return openIncidents(this.#state);
  }

  /** Incidents that fired, by kind, since the stage started. */
  firedByKind(): ReadonlyMap<string, number> {
    return this.#counts;
  }

  #emit(updates: IncidentUpdate[]): void {
    for (const u of updates) {
      if (u.incident.state === "firing" && !this.#wasFiring.has(u.incident.id)) {
        this.#wasFiring.add(u.incident.id);
        this.#counts.set(u.incident.kind, (this.#counts.get(u.incident.kind) ?? 0) + 1);
      }
      if (u.incident.state === "resolved") this.#wasFiring.delete(u.incident.id);
      const { subject, data } = encodeIncidentUpdate(u);
      this.#publish(subject, data);
    }
  }
}

/** Runs a stage on `bus`: the actors' findings in, the incident updates out. */
export function runIncidentStage(
  bus: Bus,
  options: Omit<IncidentStageOptions, "publish">,
): { stage: IncidentStage; stop: () => void } {
  const stage = new IncidentStage({ ...options, publish: (s, d) => bus.publish(s, d) });
  const subs: BusSubscription[] = INCIDENT_KINDS.map((kind) =>
    bus.subscribe(outPattern(kind), (m) => stage.take(m.data))
  );
  return {
    stage,
    stop: () => {
      for (const s of subs) s.unsubscribe();
    },
  };
}
