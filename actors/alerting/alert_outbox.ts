/**
 * What one target (an Alertmanager or a webhook) is owed: per incident, the alert it should hold
 * now and whether it does. Pure (times are passed in), so the sender's effects stay at its edge and
 * the whole outbox can be saved and restored as it is. An incident's newer alert replaces the older
 * one not yet delivered (the target needs the true state, not every step to it), so the backlog is
 * one entry per incident, bounded by `owed_max`: past it the oldest entry that is settled (resolved
 * or silenced) falls off first, then the oldest of all. An alert whose labels
 * changed (its severity rose, a second channel joined) leaves its old label set to be ended, since
 * Alertmanager keys an alert by its labels. An Alertmanager is sent a firing alert again every
 * `resend_ms` and a resolved one for `resolved_resend_ms`; a webhook gets each state once. An
 * incident that fired and resolved before the target took its firing alert (a try of it failed: the
 * target was down) is never sent resolved alone, which the target would take as news of nothing
 * (Alertmanager notifies no group that never held a firing alert): it is sent firing first,
 * annotated `fired_unseen`, and resolved once an Alertmanager has held it firing for
 * `unseen_hold_ms` (so its group is flushed, and notified, while it fires). `dropped` counts
 * entries that fell off the bound before the target took their alert.
 */
import { encodePostableAlerts, type PostableAlert } from "../../protocol/mod.ts";

/** How the target takes alerts. */
export type TargetKind = "alertmanager" | "webhook";

/** One incident's alert owed to one target. */
export interface OwedAlert {
  id: string;
  alert: PostableAlert;
  /** troupe's silences keep it from being sent. */
  silenced: boolean;
  /** The target holds `alert`. */
  delivered: boolean;
  /** Why the target refused `alert` (a 4xx): not sent again until the incident changes. */
  refused?: string;
  /** Wall time (ms) it is next due. */
  next_ms: number;
  /** Failed tries in a row (the backoff's exponent). */
  attempts: number;
  /** Wall time (ms) the alert was first owed as resolved (or ended). */
  ended_ms?: number;
  /** Whether any alert of this incident was ever delivered. */
  ever_sent: boolean;
  /** Earlier label sets of the incident, still to be ended. */
  retired: PostableAlert[];
  /** It fired and resolved before the target took it firing: its alerts carry `fired_unseen`. */
  unseen?: boolean;
  /** While `alert` is the unseen firing one: the resolved alert owed once it is delivered. */
  held?: PostableAlert;
  /** Wall time (ms) before which the unseen incident's resolved alert is not sent. */
  hold_until_ms?: number;
}

/** What went out for one entry: its alert then, and how many retired label sets before it. */
export interface SentAlert {
  alert: PostableAlert;
  retired: number;
}

/** What is due: the entries, the alerts to post, what goes out per entry. */
export interface Due {
  entries: OwedAlert[];
  alerts: PostableAlert[];
  sent: SentAlert[];
}

/** The outbox as saved. */
export interface SavedOutbox {
  owed: OwedAlert[];
  done: string[];
}

/** What an outbox is built with. */
export interface OutboxOptions {
  kind: TargetKind;
  resend_ms: number;
  resolved_resend_ms: number;
  retry_ms_max: number;
  owed_max: number;
  /** How long an Alertmanager holds an unseen incident's firing alert before it is resolved. */
  unseen_hold_ms: number;
}

/** The annotation an incident that fired while the target was unreachable carries. */
export const FIRED_UNSEEN_ANNOTATION = "fired_unseen";

/** What it says. */
export const FIRED_UNSEEN_TEXT =
  "fired and resolved while troupe could not reach this target: sent firing, then resolved";

/** Retired label sets one incident keeps to end, at most. */
export const RETIRED_MAX = 8;
/** The first retry's wait; each failure doubles it, up to retry_ms_max. */
export const RETRY_MS_MIN = 500;

/** One target's outbox. */
export class AlertOutbox {
  readonly #options: OutboxOptions;
  readonly #owed = new Map<string, OwedAlert>();
  /** Incidents settled here for good (resolved and delivered for its window): not owed again. */
  readonly #done = new Set<string>();
  /** Entries that fell off the bound since the start before the target took their alert. */
  dropped = 0;

  constructor(options: OutboxOptions) {
    this.#options = options;
  }

  /** Entries held. */
  get size(): number {
    return this.#owed.size;
  }

  /** The entry of an incident. */
  get(id: string): OwedAlert | undefined {
    return this.#owed.get(id);
  }

  /** All entries, oldest first. */
  entries(): IterableIterator<OwedAlert> {
    return this.#owed.values();
  }

  /** Whether the incident was settled here for good. */
  isDone(id: string): boolean {
    return this.#done.has(id);
  }

  /**
   * The incident's alert should now be `alert` (silenced or not): owed when it differs from what
   * the entry holds. Returns whether anything changed.
   */
  want(id: string, alert: PostableAlert, silenced: boolean, nowMs: number): boolean {
    const e = this.#owed.get(id);
    const resolved = alert.endsAt !== undefined;
    if (!e) {
      if (this.#done.has(id) && resolved) return false;
      this.#done.delete(id);
      if (silenced) {
        this.#put({
          id,
          alert,
          silenced,
          delivered: true,
          next_ms: Infinity,
          attempts: 0,
          ever_sent: false,
          retired: [],
        });
        return true;
      }
      this.#put({
        id,
        alert,
        silenced,
        delivered: false,
        next_ms: nowMs,
        attempts: 0,
        ever_sent: false,
        retired: [],
        ...(resolved ? { ended_ms: nowMs } : {}),
      });
      return true;
    }
    if (silenced) {
      if (e.silenced) return false;
      e.silenced = true;
      delete e.held;
      // Sent before: the target is told it ended (now), so it stops paging; never sent: nothing.
      if (!e.ever_sent) {
        e.delivered = true;
        e.next_ms = Infinity;
        return true;
      }
      this.#replace(e, ended(e.alert, nowMs), nowMs);
      return true;
    }
    // Unseen: its firing alert was tried and failed, and no alert of it ever reached the target
    // (one never tried is not known to be unseen: a holder's outbox saved before it posted).
    const unseen = e.unseen === true ||
      (!e.ever_sent && e.alert.endsAt === undefined && e.attempts > 0);
    if (resolved && unseen && !e.silenced) return this.#unseen(e, alert, nowMs);
    const same = !e.silenced && sameAlert(e.alert, alert);
    if (same) return false;
    e.silenced = false;
    this.#replace(e, alert, nowMs);
    return true;
  }

  /**
   * The incident is no longer held by troupe while its alert still fires here: it is ended now
   * (a stage that lost it would otherwise leave the target paging forever).
   */
  end(id: string, nowMs: number): boolean {
    const e = this.#owed.get(id);
    if (!e || e.alert.endsAt !== undefined) return false;
    this.#replace(e, ended(e.alert, nowMs), nowMs);
    return true;
  }

  /**
   * What is due at `nowMs`, at most `max` entries: the entries, the alerts to post (each entry's
   * retired label sets, ended, before its alert), and per entry what goes out for it (`delivered`
   * is given it back, as an entry may change while its post is in flight).
   */
  due(nowMs: number, max: number): Due {
    const entries: OwedAlert[] = [];
    const alerts: PostableAlert[] = [];
    const sent: SentAlert[] = [];
    for (const e of this.#owed.values()) {
      if (entries.length >= max) break;
      if (e.next_ms > nowMs) continue;
      if (e.silenced && e.delivered && e.retired.length === 0) continue;
      entries.push(e);
      alerts.push(...e.retired, e.alert);
      sent.push({ alert: e.alert, retired: e.retired.length });
    }
    return { entries, alerts, sent };
  }

  /** The earliest time anything is due (Infinity: nothing). */
  nextDueMs(): number {
    let t = Infinity;
    for (const e of this.#owed.values()) if (e.next_ms < t) t = e.next_ms;
    return t;
  }

  /**
   * `entries` were delivered at `nowMs` (`sent`: what went out for each, from `due`): each is due
   * again as its kind and state say. An entry whose alert changed while its post was in flight
   * holds what was sent at the target: the new alert is still owed, and the sent one is ended
   * first if its labels differ.
   */
  delivered(entries: readonly OwedAlert[], nowMs: number, sent?: readonly SentAlert[]): void {
    for (const [i, e] of entries.entries()) {
      const s = sent?.[i];
      e.ever_sent = true;
      e.attempts = 0;
      if (s) e.retired.splice(0, s.retired);
      else e.retired = [];
      if (s && s.alert !== e.alert) {
        if (!sameLabels(s.alert.labels, e.alert.labels) && s.alert.endsAt === undefined) {
          e.retired.push(ended(s.alert, nowMs));
        }
        e.delivered = false;
        e.next_ms = nowMs;
        continue;
      }
      e.delivered = true;
      delete e.refused;
      if (e.held !== undefined) {
        // The target holds the unseen firing alert: the resolved one follows after the hold.
        const hold = this.#options.kind === "alertmanager" ? this.#options.unseen_hold_ms : 0;
        e.hold_until_ms = e.ended_ms = e.next_ms = nowMs + hold;
        e.alert = e.held;
        delete e.held;
        e.delivered = false;
        continue;
      }
      const over = e.alert.endsAt !== undefined;
      if (this.#options.kind === "webhook" || e.silenced) {
        e.next_ms = Infinity;
        if (over && !e.silenced) this.#settle(e);
      } else if (over) {
        const until = (e.ended_ms ?? nowMs) + this.#options.resolved_resend_ms;
        if (nowMs >= until) this.#settle(e);
        else e.next_ms = Math.min(until, nowMs + this.#options.resend_ms);
      } else {
        e.next_ms = nowMs + this.#options.resend_ms;
      }
    }
  }

  /**
   * The target took a post: entries waiting out a backoff from its outage are due now, rather
   * than each at the end of its own wait.
   */
  targetBack(nowMs: number): void {
    for (const e of this.#owed.values()) {
      if (e.attempts > 0 && !e.delivered && e.refused === undefined) {
        e.attempts = 0;
        e.next_ms = nowMs;
      }
    }
  }

  /** A try of `entries` failed for a reason worth retrying: each waits, doubling, up to the max. */
  failed(entries: readonly OwedAlert[], nowMs: number, jitter: number): void {
    for (const e of entries) {
      e.attempts++;
      const wait = Math.min(
        this.#options.retry_ms_max,
        RETRY_MS_MIN * 2 ** Math.min(e.attempts - 1, 20),
      );
      e.next_ms = nowMs + wait * (0.5 + 0.5 * jitter);
    }
  }

  /** The target refused `entry`'s alert (a 4xx): kept, not sent again until the incident
   *  changes. */
  refused(entry: OwedAlert, reason: string): void {
    entry.refused = reason;
    entry.retired = [];
    entry.next_ms = Infinity;
  }

  /** Its state, to save. */
  saved(): SavedOutbox {
    return {
      owed: [...this.#owed.values()].map((e) => ({
        ...e,
        next_ms: Number.isFinite(e.next_ms) ? e.next_ms : -1,
      })),
      done: [...this.#done],
    };
  }

  /** Takes a saved state in place of its own; what was not yet delivered is due at once. */
  restore(saved: SavedOutbox, nowMs: number): void {
    this.#owed.clear();
    this.#done.clear();
    for (const id of saved.done.slice(-this.#options.owed_max)) this.#done.add(id);
    for (const e of saved.owed.slice(-this.#options.owed_max)) {
      const settled = e.next_ms === -1;
      const due = Math.max(Math.min(e.next_ms, nowMs), e.hold_until_ms ?? -Infinity);
      this.#owed.set(e.id, { ...e, next_ms: settled ? Infinity : due });
    }
  }

  #replace(e: OwedAlert, alert: PostableAlert, nowMs: number): void {
    if (e.ever_sent && !sameLabels(e.alert.labels, alert.labels) && e.alert.endsAt === undefined) {
      e.retired.push(ended(e.alert, nowMs));
      if (e.retired.length > RETIRED_MAX) e.retired.shift();
    }
    e.alert = alert;
    e.delivered = false;
    delete e.refused;
    e.attempts = 0;
    e.next_ms = nowMs;
    if (alert.endsAt !== undefined) e.ended_ms ??= nowMs;
    else delete e.ended_ms;
  }

  /**
   * The incident resolved (`alert`) before the target took it firing: it is owed firing first,
   * annotated, and resolved after (delivered); once the firing one is delivered, the resolved one
   * waits out its hold whatever changes.
   */
  #unseen(e: OwedAlert, alert: PostableAlert, nowMs: number): boolean {
    const resolved = annotated(alert);
    if (e.unseen === true && e.held === undefined) {
      if (sameAlert(e.alert, resolved)) return false;
      this.#replace(e, resolved, nowMs);
      e.next_ms = Math.max(nowMs, e.hold_until_ms ?? nowMs);
      return true;
    }
    if (e.held !== undefined && sameAlert(e.held, resolved)) return false;
    e.unseen = true;
    e.held = resolved;
    const { endsAt: _, ...firing } = resolved;
    if (!sameAlert(e.alert, firing)) this.#replace(e, firing, nowMs);
    return true;
  }

  #settle(e: OwedAlert): void {
    this.#owed.delete(e.id);
    this.#done.add(e.id);
    if (this.#done.size > this.#options.owed_max) {
      this.#done.delete(this.#done.values().next().value!);
    }
  }

  #put(e: OwedAlert): void {
    this.#owed.set(e.id, e);
    if (this.#owed.size <= this.#options.owed_max) return;
    let victim: string | undefined;
    for (const x of this.#owed.values()) {
      if (x.alert.endsAt !== undefined || x.silenced) {
        victim = x.id;
        break;
      }
    }
    const gone = this.#owed.get(victim ?? this.#owed.keys().next().value!)!;
    this.#owed.delete(gone.id);
    // Dropped means never delivered: an entry the target holds (or silenced) lost nothing.
    if (!gone.delivered) this.dropped++;
  }
}

/** `alert` ended at `nowMs` (not before it started). */
export function ended(alert: PostableAlert, nowMs: number): PostableAlert {
  const at = Math.max(nowMs, Date.parse(alert.startsAt));
  return { ...alert, endsAt: new Date(at).toISOString() };
}

/** `alert` with the annotation of an incident that fired unseen. */
function annotated(alert: PostableAlert): PostableAlert {
  return {
    ...alert,
    annotations: { ...alert.annotations, [FIRED_UNSEEN_ANNOTATION]: FIRED_UNSEEN_TEXT },
  };
}

function sameAlert(a: PostableAlert, b: PostableAlert): boolean {
  return encodePostableAlerts([a]) === encodePostableAlerts([b]);
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
