/**
 * The incidents the incident stage published since the collab server started, bounded: what a
 * history answer lists beside the samples of its range (the findings' twin, finding_log.ts). The
 * stage publishes the whole incident on `troupe.out.incident.<kind>` at every change, so the log
 * keeps the latest update of each id, at most `incidents_max` (the one updated longest ago goes
 * first). What came before the server started, or was evicted, is not known, and an answer says
 * from when its incidents are known (`since_us`).
 */
import {
  type Bus,
  type BusSubscription,
  decodeIncident,
  type Incident,
  outPattern,
  ProtocolError,
} from "../protocol/mod.ts";

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

  /** Keeps one update (the latest of its id); one that cannot be decoded is counted. */
  add(data: Uint8Array): void {
    let incident: Incident;
    try {
      incident = decodeIncident(data).incident;
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.malformed++;
      return;
    }
    this.#kept.delete(incident.id);
    this.#kept.set(incident.id, incident);
    if (this.#kept.size > this.incidents_max) {
      const [id, oldest] = this.#kept.entries().next().value!;
      this.#kept.delete(id);
      this.#sinceUs = Math.max(this.#sinceUs, oldest.last_us);
    }
  }

  /** From when the log knows the incidents (µs): its start, or the newest span it evicted. */
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
