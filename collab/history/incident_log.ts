/**
 * The incidents of the incident stage, bounded: what a history answer lists beside the samples of
 * its range (the findings' twin, finding_log.ts), and what a fresh page's incidents panel starts
 * from (`GET /incidents`). The stage publishes the whole incident on `troupe.out.incident.<kind>`
 * at every change, so the log keeps the latest copy of each id, at most `incidents_max` (the one
 * updated longest ago goes first). It is seeded from the stage's own list (`seed`, asked for by
 * incident_seed.ts when the server starts and on a NATS reconnect), so the incidents opened before
 * the server started are known too. Of two copies of an id the one further along is kept
 * (`compareIncidentProgress`: findings, then last_us, then state, then links); on a tie, an
 * update seen on the wire wins over the list's copy. An answer says from when its incidents are
 * known (`since_us`).
 */
import {
  type Bus,
  type BusSubscription,
  compareIncidentProgress,
  decodeIncident,
  type Incident,
  outPattern,
  ProtocolError,
} from "../../protocol/mod.ts";

/** Options of an IncidentLog. */
export interface IncidentLogOptions {
  /** Incidents kept at most: 4,096. */
  incidents_max?: number;
  /** Microseconds since the epoch. */
  nowUs(): number;
}

/** A bounded log of the incidents' latest updates, fed from the bus. */
export class IncidentLog {
  readonly incidents_max: number;
  /** By id, in the order of their latest update (a Map keeps insertion order). */
  readonly #kept = new Map<string, Incident>();
  #sinceUs: number;
  #evicted = false;
  #subs: BusSubscription[] = [];
  /** Updates that could not be decoded (the stage's own are never malformed). */
  malformed = 0;

  constructor(options: IncidentLogOptions) {
    this.incidents_max = options.incidents_max ?? 4_096;
    if (!Number.isSafeInteger(this.incidents_max) || this.incidents_max < 1) {
      throw new RangeError(
        `IncidentLog incidents_max must be a positive integer, got ${this.incidents_max}`,
      );
    }
    this.#sinceUs = options.nowUs();
  }

  /** Starts keeping the incident updates published on `bus`. */
  follow(bus: Bus): this {
    this.#subs.push(bus.subscribe(outPattern("incident"), (m) => this.add(m.data)));
    return this;
  }

  /**
   * Keeps one update seen on the wire, unless the copy kept is further along (a list's copy
   * newer than an update that was on its way); one that cannot be decoded is counted.
   */
  add(data: Uint8Array): void {
    let incident: Incident;
    try {
      incident = decodeIncident(data).incident;
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.malformed++;
      return;
    }
    const kept = this.#kept.get(incident.id);
    if (kept && compareIncidentProgress(incident, kept) < 0) return;
    this.#keep(incident);
  }

  /**
   * Takes the incident stage's list (its open incidents and its newest resolved ones): each is
   * kept unless the copy kept is as far along. The log then knows the incidents from the first
   * the list covers: the earliest start of its open ones, or, when it holds resolved ones (the
   * stage keeps only its newest), the earliest end among those; never later than it knew them.
   */
  seed(listed: readonly Incident[]): void {
    for (const incident of listed) {
      const kept = this.#kept.get(incident.id);
      if (!kept || compareIncidentProgress(incident, kept) > 0) this.#keep(incident);
    }
    const resolved = listed.filter((i) => i.state === "resolved");
    const covers = resolved.length > 0
      ? Math.min(...resolved.map((i) => i.last_us))
      : Math.min(...listed.map((i) => i.first_us));
    if (!this.#evicted && covers < this.#sinceUs) this.#sinceUs = covers;
  }

  #keep(incident: Incident): void {
    this.#kept.delete(incident.id);
    this.#kept.set(incident.id, incident);
    if (this.#kept.size > this.incidents_max) {
      const [id, oldest] = this.#kept.entries().next().value!;
      this.#kept.delete(id);
      this.#evicted = true;
      this.#sinceUs = Math.max(this.#sinceUs, oldest.last_us);
    }
  }

  /** Every incident kept, the one updated longest ago first (what `GET /incidents` lists). */
  all(): Incident[] {
    return [...this.#kept.values()];
  }

  /** From when the log knows the incidents (µs): its start, what a seed covers, or the newest
   *  span it evicted. */
  get since_us(): number {
    return this.#sinceUs;
  }

  /**
   * The incidents with `channel` as a member whose span [first_us, last_us] meets [t0, t1),
   * oldest first, at most `max` (the newest).
   */
  range(channel: string, t0_us: number, t1_us: number, max: number): Incident[] {
    const out: Incident[] = [];
    for (const i of this.#kept.values()) {
      if (i.first_us >= t1_us || i.last_us < t0_us) continue;
      if (i.members.some((m) => m.channel === channel)) out.push(i);
    }
    out.sort((a, b) => a.first_us - b.first_us || (a.id < b.id ? -1 : 1));
    return out.length > max ? out.slice(out.length - max) : out;
  }

  /** Stops following the bus. */
  close(): void {
    for (const s of this.#subs) s.unsubscribe();
    this.#subs = [];
  }
}
