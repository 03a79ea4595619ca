/**
 * What an actor kind declares about each kind of finding it makes, so that incidents, `troupe
 * watch`, the dashboard and alerting treat it the same whoever wrote the kind: the event type it
 * is published as, the body field its strength is measured on, the edges of severities 2 to 5 on
 * that measure, and the measure's unit in words. A kind declares its findings (see
 * `ActorDefinition.findings`); loading the kind registers them here, once per process, and the
 * incident stage and the commands ask this registry, never a list of names of their own.
 */
import { ConfigError } from "./config_error.ts";
import { describeValue, ProtocolError } from "./protocol_error.ts";
import { INCIDENT_PEAK_FIELDS, type IncidentPeak } from "./incident.ts";
import { isValidName, outSubject, parseFindingSubject } from "./subjects.ts";

/** A kind of finding: an event type that opens incidents, and how its severity is read. */
export interface FindingKind {
  /** The event type (`anomaly`, `spread_break`): a subject token. */
  readonly type: string;
  /** The body field its strength is measured on (a number). */
  readonly measure: string;
  /** Whether the measure's magnitude counts (a shift of -3 is as strong as +3). */
  readonly abs?: boolean;
  /** The lower edges of severities 2, 3, 4 and 5 on the measure, increasing. */
  readonly edges: readonly [number, number, number, number];
  /** The measure's unit, in words (`score`, `sd`). */
  readonly unit: string;
  /** The body field naming the channel (or group) the finding is about; default `channel`. */
  readonly channelField?: string;
  /**
   * A finding that starts an episode holding its incident open until the next: the body field
   * naming the episode's state, and the state that is quiet (a return to it opens nothing).
   */
  readonly episode?: { readonly field: string; readonly quiet: string };
  /** The body field holding the moment the finding is about (µs), when not its event time. */
  readonly atField?: string;
  /**
   * The body field that, true, marks a finding restating its channel's open one at a stronger
   * sample (the anomaly detector's `restated`): it joins its channel's incident and opens none.
   */
  readonly restatesField?: string;
  /**
   * How the measure reads as a tail probability, for the page budget: a measure m claims a
   * surprise of `free_bits + bits_per_unit × min(m, measure_max)` bits (−log2 of the probability
   * that the channel's past went as far). Without it, a finding states no probability and pages
   * by its severity.
   */
  readonly tail?: FindingTail;
  /**
   * Whether its incidents are context rather than pages by default (change points, coherence
   * shifts): named on a page of the same group as what changed, paged only when a team asks
   * (`alerting.paging.page_kinds`).
   */
  readonly context?: boolean;
  /**
   * A check of the whole body beyond its channel and measure: returns the body as read, or throws
   * the ProtocolError naming the field and its value. Without it, the body is taken as it is.
   */
  readonly check?: (body: unknown) => object;
}

/** A measure's reading as a tail probability (FindingKind.tail). */
export interface FindingTail {
  readonly bits_per_unit: number;
  readonly free_bits: number;
  readonly measure_max: number;
  /**
   * Findings whose body's `view` is one of these reached their measure by an outright rule, not a
   * probability (the anomaly detector's range rule scores 1 outright): they are read by their
   * band alone (`band_sigmas`), their measure stating nothing.
   */
  readonly outright_views?: readonly string[];
  /**
   * How many standard deviations of the prediction error the body's band `lower..upper` spans each
   * side. With it, a finding whose body has a band is also read by Chebyshev's bound on its
   * value's distance from `expected` (findingTailBits), uncapped.
   */
  readonly band_sigmas?: number;
}

/** The surprise in bits `measure` claims on `tail`'s reading (−log2 of its tail probability). */
export function tailBits(tail: FindingTail, measure: number): number {
  return tail.free_bits + tail.bits_per_unit * Math.min(tail.measure_max, Math.max(0, measure));
}

/**
 * The surprise in bits a finding of `kind` with `body` states, or undefined for a kind without a
 * tail: the larger of its measure's bits and, where its body has a band (`band_sigmas`), the
 * bits of its band's bound (bandBits), not capped: one sample far enough out states as much as
 * its distance supports. An outright rule's finding (`outright_views`) is read by its band alone
 * (at least the measure's free bits). A band of no width states nothing: no σ, no bound.
 */
export function findingTailBits(kind: FindingKind, body: unknown): number | undefined {
  const tail = kind.tail;
  if (tail === undefined) return undefined;
  const b = body !== null && typeof body === "object" ? body as Record<string, unknown> : {};
  const measure = findingMeasure(kind, b);
  if (!Number.isFinite(measure)) return undefined;
  const outright = tail.outright_views?.includes(b.view as string) === true;
  const bits = outright ? tail.free_bits : tailBits(tail, measure);
  const band = bandBits(b, tail.band_sigmas ?? 0);
  return band > bits ? band : bits;
}

/**
 * −log2 of Chebyshev's bound P(|X − μ| ≥ kσ) ≤ 1 / k² (distribution-free, given σ; two-sided,
 * as the side a finding went is seen after the fact) for a body's value k standard deviations
 * from `expected`, σ its band `lower..upper` over 2 × `sigmas`: 2 log2 k, 0 within one σ or
 * without a band of positive width.
 */
export function bandBits(body: Record<string, unknown>, sigmas: number): number {
  const { value, expected, lower, upper } = body;
  if (
    typeof value !== "number" || typeof expected !== "number" || typeof lower !== "number" ||
    typeof upper !== "number" || !(sigmas > 0) || !(upper > lower)
  ) return 0;
  const k = Math.abs(value - expected) / ((upper - lower) / (2 * sigmas));
  return k > 1 && k < Infinity ? 2 * Math.log2(k) : 0;
}

/**
 * What a finding of `kind` with `body` saw, for its incident member's `peak`: its measure, the
 * surprise it states (findingTailBits), and the value with its expected band where the body has
 * them as numbers.
 */
export function findingPeak(kind: FindingKind, body: unknown): IncidentPeak {
  const b = body !== null && typeof body === "object" ? body as Record<string, unknown> : {};
  const peak: IncidentPeak = { measure: findingMeasure(kind, b) };
  const bits = findingTailBits(kind, b);
  if (bits !== undefined && Number.isFinite(bits)) peak.bits = bits;
  for (const k of INCIDENT_PEAK_FIELDS) {
    const x = b[k];
    if (k !== "bits" && typeof x === "number" && Number.isFinite(x)) peak[k] = x;
  }
  return peak;
}

/** Kinds of finding a process may register, at most: each is a subscription and a metric label. */
export const FINDING_KINDS_MAX = 256;

/**
 * The registry, one per process (per thread): kept on globalThis under a registered symbol so that
 * two copies of this module (troupe's own, and one a user's kind loaded by another path) share it.
 */
interface FindingRegistry {
  kinds: Map<string, FindingKind>;
  /** Actor kinds that declared findings: their `troupe.out.<kind>.*` carries them. */
  actors: Set<string>;
  /** The actor kind that declared each type of finding: its outputs' subjects carry them. */
  actorOf: Map<string, string>;
}
const REGISTRY_KEY = Symbol.for("troupe.findingKinds");
const shared = globalThis as { [REGISTRY_KEY]?: FindingRegistry };
const shared_ = shared[REGISTRY_KEY] ??= {
  kinds: new Map(),
  actors: new Set(),
  actorOf: new Map(),
};
// A registry made by an older copy of this module has no map of actors: it gets one.
shared_.actorOf ??= new Map();
const { kinds: registry, actors, actorOf } = shared_;

/** Registers the findings actor kind `actor` declares (see `registerFindingKind`). */
export function registerKindFindings(actor: string, specs: readonly FindingKind[]): void {
  specs.forEach((spec, i) => {
    registerFindingKind(spec, `${actor}.findings[${i}]`);
    if (!actorOf.has(spec.type)) actorOf.set(spec.type, actor);
  });
  if (specs.length > 0) actors.add(actor);
}

/**
 * The actor kind whose outputs (`troupe.out.<actor>.*`) carry findings of type `type`, or
 * undefined for a type no kind declared.
 */
export function findingActorOf(type: string): string | undefined {
  return actorOf.get(type);
}

/** The actor kinds that declared findings, in the order registered. */
export function findingActors(): string[] {
  return [...actors];
}

/**
 * Checks `spec` and registers it. Registering the same declaration again is a no-op (a module may
 * be loaded by several paths); a different declaration under a registered type throws.
 */
export function registerFindingKind(spec: FindingKind, path = "findings"): void {
  checkFindingKind(spec, path);
  const had = registry.get(spec.type);
  if (had !== undefined) {
    if (sameFindingKind(had, spec)) return;
    throw new ConfigError(
      `${path}.${spec.type}`,
      `Cannot register finding kind "${spec.type}": it is already declared with measure ` +
        `"${had.measure}" and edges ${had.edges.join(",")}, got "${spec.measure}" and ` +
        `edges ${spec.edges.join(",")}`,
      { value: spec },
    );
  }
  if (registry.size >= FINDING_KINDS_MAX) {
    throw new ConfigError(
      path,
      `Cannot register finding kind "${spec.type}": at most ${FINDING_KINDS_MAX} are allowed`,
      { value: spec.type },
    );
  }
  registry.set(
    spec.type,
    Object.freeze({ ...spec, edges: [...spec.edges] as FindingKind["edges"] }),
  );
}

/** The registered kind of finding of event type `type`, or undefined. */
export function findingKindOf(type: unknown): FindingKind | undefined {
  return typeof type === "string" ? registry.get(type) : undefined;
}

/** Every registered kind of finding, in the order registered. */
export function findingKinds(): FindingKind[] {
  return [...registry.values()];
}

/** Whether `type` (an event's type) is a registered kind of finding, one that opens incidents. */
export function isFindingType(type: unknown): boolean {
  return typeof type === "string" && registry.has(type);
}

/** The measure of a finding of `kind` with body `body`: NaN when the field is not a number. */
export function findingMeasure(kind: FindingKind, body: unknown): number {
  const x = findingSignedMeasure(kind, body);
  return kind.abs ? Math.abs(x) : x;
}

/** The measure's field as the body carries it, sign kept even on an `abs` scale (for display). */
export function findingSignedMeasure(kind: FindingKind, body: unknown): number {
  const raw = body !== null && typeof body === "object"
    ? (body as Record<string, unknown>)[kind.measure]
    : undefined;
  return typeof raw === "number" ? raw : NaN;
}

/** The severity, 1 to 5, of `measure` on `kind`'s scale (a NaN measure is 1). */
export function severityOnScale(kind: FindingKind, measure: number): number {
  let s = 1;
  for (const edge of kind.edges) if (measure >= edge) s++;
  return s;
}

/** The channel (or group) a finding of `kind` with body `body` is about, or undefined. */
export function findingChannel(kind: FindingKind, body: unknown): string | undefined {
  const raw = body !== null && typeof body === "object"
    ? (body as Record<string, unknown>)[kind.channelField ?? "channel"]
    : undefined;
  return typeof raw === "string" ? raw : undefined;
}

function checkFindingKind(spec: FindingKind, path: string): void {
  const at = `${path}.${String(spec?.type)}`;
  if (typeof spec?.type !== "string" || !isValidName(spec.type)) {
    throw new ConfigError(
      path,
      `A finding kind's type must be a name of 1 to 64 of A-Z a-z 0-9 _ -, got ${
        JSON.stringify(spec?.type)
      }`,
      { value: spec?.type },
    );
  }
  if (typeof spec.measure !== "string" || spec.measure === "") {
    throw new ConfigError(`${at}.measure`, `${at}.measure must name a body field`, {
      value: spec.measure,
    });
  }
  const e = spec.edges as readonly unknown[];
  const increasing = Array.isArray(e) && e.length === 4 &&
    e.every((x, i) => typeof x === "number" && Number.isFinite(x) && (i === 0 || x > e[i - 1]!));
  if (!increasing) {
    throw new ConfigError(
      `${at}.edges`,
      `${at}.edges must be 4 increasing finite numbers (severities 2 to 5), got ${
        JSON.stringify(e)
      }`,
      { value: e },
    );
  }
  if (typeof spec.unit !== "string") {
    throw new ConfigError(`${at}.unit`, `${at}.unit must be a string`, { value: spec.unit });
  }
  const tail = spec.tail as Record<string, unknown> | undefined;
  if (
    tail !== undefined &&
    !(["bits_per_unit", "free_bits", "measure_max"].every((k) =>
      typeof tail?.[k] === "number" && Number.isFinite(tail[k]) && (tail[k] as number) >= 0
    ))
  ) {
    throw new ConfigError(
      `${at}.tail`,
      `${at}.tail must be { bits_per_unit, free_bits, measure_max }, each a finite number >= 0, ` +
        `got ${JSON.stringify(tail)}`,
      { value: tail },
    );
  }
  if (spec.context !== undefined && typeof spec.context !== "boolean") {
    throw new ConfigError(`${at}.context`, `${at}.context must be true or false`, {
      value: spec.context,
    });
  }
  if (spec.restatesField !== undefined && typeof spec.restatesField !== "string") {
    throw new ConfigError(`${at}.restatesField`, `${at}.restatesField must name a body field`, {
      value: spec.restatesField,
    });
  }
  if (spec.check !== undefined && typeof spec.check !== "function") {
    throw new ConfigError(`${at}.check`, `${at}.check must be a function of the body`, {
      value: spec.check,
    });
  }
}

function sameFindingKind(a: FindingKind, b: FindingKind): boolean {
  return a.measure === b.measure && Boolean(a.abs) === Boolean(b.abs) && a.unit === b.unit &&
    (a.channelField ?? "channel") === (b.channelField ?? "channel") &&
    a.episode?.field === b.episode?.field && a.episode?.quiet === b.episode?.quiet &&
    a.atField === b.atField && a.restatesField === b.restatesField && a.context === b.context &&
    a.tail?.bits_per_unit === b.tail?.bits_per_unit && a.tail?.free_bits === b.tail?.free_bits &&
    a.tail?.measure_max === b.tail?.measure_max && a.tail?.band_sigmas === b.tail?.band_sigmas &&
    (a.tail?.outright_views ?? []).join() === (b.tail?.outright_views ?? []).join() &&
    a.edges.every((x, i) => x === b.edges[i]);
}

/**
 * The body of a finding of `kind`, checked as the kind declares (its `check`, then its channel and
 * measure); throws the ProtocolError naming the field and its value.
 */
export function checkedFindingBody(kind: FindingKind, body: unknown): Record<string, unknown> {
  const read = (kind.check === undefined ? body : kind.check(body)) as Record<string, unknown>;
  findingFacts(kind, read);
  return read;
}

/** What an incident needs of a finding's body, read as its kind declares. */
export interface FindingFacts {
  /** The channel (or group) it is about. */
  channel: string;
  /** 1 to 5 on the kind's scale. */
  severity: number;
  /** The moment it is about, when its kind names one (`atField`). */
  at_us?: number;
  /** For a kind with episodes: whether this one returns to the quiet state. */
  quiet?: boolean;
  /** Whether it restates its channel's open finding (`restatesField`): it opens nothing. */
  restates?: boolean;
}

/**
 * The facts of a finding of `kind` with body `body`; throws the ProtocolError naming the field and
 * its value when the channel is not a string or the measure not a number.
 */
export function findingFacts(kind: FindingKind, body: unknown): FindingFacts {
  const b = body !== null && typeof body === "object" ? body as Record<string, unknown> : {};
  const channelField = kind.channelField ?? "channel";
  const channel = b[channelField];
  if (typeof channel !== "string") {
    throw new ProtocolError(
      "field",
      `Cannot read a ${kind.type} finding: field "${channelField}" must be a string, got ${
        describeValue(channel)
      }`,
      { field: channelField, value: channel },
    );
  }
  if (typeof b[kind.measure] !== "number") {
    throw new ProtocolError(
      "field",
      `Cannot read a ${kind.type} finding: field "${kind.measure}" must be a number, got ${
        describeValue(b[kind.measure])
      }`,
      { field: kind.measure, value: b[kind.measure] },
    );
  }
  const facts: FindingFacts = {
    channel,
    severity: severityOnScale(kind, findingMeasure(kind, b)),
  };
  const at = kind.atField === undefined ? undefined : b[kind.atField];
  if (typeof at === "number") facts.at_us = at;
  if (kind.episode !== undefined) facts.quiet = b[kind.episode.field] === kind.episode.quiet;
  if (kind.restatesField !== undefined && b[kind.restatesField] === true) facts.restates = true;
  return facts;
}

/**
 * The output subject `troupe.out.<actor>.<key>` of the finding published on `subject`
 * (`troupe.finding.<type>.<key>`, its type a registered finding's), or undefined for any other
 * subject: how a replay and the simulator key a finding among its actor's outputs, as older
 * clusters published it, and how they tell a finding from a progress mark or a silence table.
 */
export function findingOutputSubject(subject: string): string | undefined {
  const parsed = parseFindingSubject(subject);
  const actor = parsed && findingActorOf(parsed.kind);
  return actor === undefined ? undefined : outSubject(actor, parsed!.channel);
}
