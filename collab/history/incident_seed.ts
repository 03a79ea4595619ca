/**
 * Seeds the collab server's incident log (incident_log.ts) from the incident stage's own list, so
 * a server started (or restarted, or joined to a running cluster) after an incident opened still
 * knows it: the log follows `troupe.out.incident.<kind>` only from when it starts. It asks on
 * `troupe.req.incidents.list`, as `troupe incidents` does, once at start and again on each NATS
 * reconnect (what was published while disconnected was missed). No stage answering (none runs,
 * or a leased stage whose lease no host holds yet) delays nothing: the log starts empty, the ask
 * is retried on a backoff that doubles up to a bound, and it is said once.
 */
import {
  type Bus,
  BusRequestError,
  decodeIncidentList,
  encodeEnvelope,
  incidentListSubject,
  ProtocolError,
} from "../../protocol/mod.ts";
import type { IncidentLog } from "./incident_log.ts";

/** Options of an IncidentSeed. */
export interface IncidentSeedOptions {
  /** Milliseconds an ask waits for the stage's answer: 2,000. */
  timeout_ms?: number;
  /** Milliseconds before the first retry, doubled at each failure: 500. */
  retry_ms_min?: number;
  /** ... up to: 30,000. */
  retry_ms_max?: number;
  /** Where the one line saying no stage answered goes (default console.error). */
  log?(line: string): void;
  /** Milliseconds since the epoch (the ask's envelope time). */
  nowMs?(): number;
}

/** Asks the incident stage for its list and seeds a log with it, until it has answered. */
export class IncidentSeed {
  readonly timeout_ms: number;
  readonly retry_ms_min: number;
  readonly retry_ms_max: number;
  /** Answers taken into the log (the tests read it). */
  seeded = 0;
  /** Asks that got no usable answer. */
  failed = 0;
  readonly #log: IncidentLog;
  readonly #bus: Bus;
  readonly #options: IncidentSeedOptions;
  #delayMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #asking = false;
  #said = false;
  #stopped = false;
  #asks = 0;

  constructor(log: IncidentLog, bus: Bus, options: IncidentSeedOptions = {}) {
    this.#log = log;
    this.#bus = bus;
    this.#options = options;
    this.timeout_ms = options.timeout_ms ?? 2_000;
    this.retry_ms_min = options.retry_ms_min ?? 500;
    this.retry_ms_max = options.retry_ms_max ?? 30_000;
    this.#delayMs = this.retry_ms_min;
  }

  /** Asks now (the server's start, a NATS reconnect), without waiting for the answer. */
  ask(): void {
    if (this.#stopped || this.#asking) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#asking = true;
    void this.#once().finally(() => (this.#asking = false));
  }

  /** Stops asking (the server closes). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #once(): Promise<void> {
    const nowMs = (this.#options.nowMs ?? Date.now)();
    const ask = encodeEnvelope({
      id: `collab-incidents-${nowMs.toString(36)}-${++this.#asks}`,
      type: "list",
      src: "troupe-collab",
      ts: nowMs * 1000,
      body: null,
    });
    try {
      const answer = await this.#bus.request(incidentListSubject(), ask, {
        timeout: this.timeout_ms,
      });
      if (this.#stopped) return;
      this.#log.seed(decodeIncidentList(answer.data));
      this.seeded++;
      this.#delayMs = this.retry_ms_min;
    } catch (err) {
      if (!(err instanceof BusRequestError || err instanceof ProtocolError)) throw err;
      if (this.#stopped) return; // the server closed while it asked
      this.failed++;
      this.#say(err);
      this.#retry();
    }
  }

  #retry(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => this.ask(), this.#delayMs);
    this.#delayMs = Math.min(this.#delayMs * 2, this.retry_ms_max);
  }

  #say(err: Error): void {
    if (this.#said) return;
    this.#said = true;
    (this.#options.log ?? console.error)(
      `collab: no incident stage answered on ${incidentListSubject()} (${err.message}); ` +
        `incidents are known from now on, and from the stage's list once it answers ` +
        `(asked again every ${this.retry_ms_min}-${this.retry_ms_max} ms)`,
    );
  }
}
