/**
 * The silences the incident stage honours, as a function of event time. Each session's table
 * arrives whole on `troupe.req.incidents.control` with the event time it takes effect at; the table
 * holds it until the stage's watermark passes that time, then swaps it in, and schedules a
 * re-judgement at each silence's start and expiry. So which incidents are silenced depends on the
 * findings and the control messages alone, never on when a message happened to arrive: a replay of
 * a recording that holds them marks the same incidents silenced at the same updates. Pure: no
 * clock.
 */
import {
  formatSilenceMatchers,
  type Incident,
  parseSilenceMatchers,
  type Silence,
  silenceActive,
  silenceMatches,
} from "../../protocol/mod.ts";

/** Changes held for their time, at most (beyond it the oldest take effect at once). */
export const SILENCE_CHANGES_HELD_MAX = 4096;

/** A change due at an event time: a session's new table, or a re-judgement (a start, an expiry). */
export interface SilenceChange {
  at_us: number;
  /** Set for a table; absent for a re-judgement. */
  session?: string;
  silences?: Silence[];
}

/** A silence as a snapshot keeps it: its matchers as their text. */
export interface SavedSilence {
  id: string;
  matchers: string;
  starts_us: number;
  ends_us: number;
}

/** A table's state as a snapshot keeps it (incident_snapshot.ts). */
export interface SavedSilenceTable {
  tables: Array<[string, SavedSilence[]]>;
  held: Array<{ at_us: number; session?: string; silences?: SavedSilence[] }>;
}

/** Sessions' silence tables and the changes held for their time. */
export class SilenceTable {
  readonly #tables = new Map<string, Silence[]>();
  #held: SilenceChange[] = [];

  /** Holds `session`'s new table until event time `at_us`. */
  hold(at_us: number, session: string, silences: Silence[]): void {
    this.#push({ at_us, session, silences });
  }

  /** The earliest held change's time, or Infinity. */
  nextUs(): number {
    return this.#held[0]?.at_us ?? Infinity;
  }

  /** Whether one is held beyond the bound (the oldest must take effect now). */
  overfull(): boolean {
    return this.#held.length > SILENCE_CHANGES_HELD_MAX;
  }

  /** Takes the earliest held change into force; its re-judgements are held for their times. */
  applyNext(): SilenceChange | undefined {
    const c = this.#held.shift();
    if (c?.session === undefined || c.silences === undefined) return c;
    if (c.silences.length === 0) this.#tables.delete(c.session);
    else this.#tables.set(c.session, c.silences);
    for (const s of c.silences) {
      for (const at_us of [s.starts_us, s.ends_us]) if (at_us > c.at_us) this.#push({ at_us });
    }
    return c;
  }

  /** Whether a silence in force at `t_us` matches `incident`. */
  silenced(incident: Incident, t_us: number): boolean {
    for (const silences of this.#tables.values()) {
      for (const s of silences) {
        if (silenceActive(s, t_us) && silenceMatches(s, incident)) return true;
      }
    }
    return false;
  }

  /** Silences in force now, by session (for listing). */
  tables(): ReadonlyMap<string, readonly Silence[]> {
    return this.#tables;
  }

  /** Its state, for a snapshot. */
  saved(): SavedSilenceTable {
    const save = (list: Silence[]) =>
      list.map((x) => ({ ...x, matchers: formatSilenceMatchers(x.matchers) }));
    return {
      tables: [...this.#tables].map(([session, list]) => [session, save(list)]),
      held: this.#held.map((c) =>
        c.silences === undefined ? { at_us: c.at_us } : { ...c, silences: save(c.silences) }
      ),
    };
  }

  /** Takes a saved state in place of its own; throws naming a matcher that does not parse. */
  restore(saved: SavedSilenceTable): void {
    const load = (list: SavedSilence[], where: string) =>
      list.map((x, i) => ({
        ...x,
        matchers: parseSilenceMatchers(x.matchers, `${where}[${i}].matchers`),
      }));
    this.#tables.clear();
    for (const [session, list] of saved.tables) {
      this.#tables.set(session, load(list, `silences.tables.${session}`));
    }
    this.#held = saved.held.map((c, i) =>
      c.silences === undefined
        ? { at_us: c.at_us }
        : { ...c, silences: load(c.silences, `silences.held[${i}]`) }
    );
  }

  #push(c: SilenceChange): void {
    const rejudge = c.session === undefined;
    if (rejudge && this.#held.some((h) => h.session === undefined && h.at_us === c.at_us)) return;
    // Sorted by time, then arrival: few changes, so insertion beats a heap.
    let i = this.#held.length;
    while (i > 0 && this.#held[i - 1]!.at_us > c.at_us) i--;
    this.#held.splice(i, 0, c);
  }
}
