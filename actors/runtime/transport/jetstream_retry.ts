/**
 * Waits out a clustered JetStream's leader election. While a cluster elects a leader (a node
 * lost, a leader stepping down), its JetStream refuses what it is asked: no server answers the
 * API subject or the stream's subject (a 503 "no responders", which nats.js reports as "jetstream
 * is not enabled"), or the answer is "JetStream system temporarily unavailable" (10008) or "cluster
 * can not handle request" (10009); and a request sent as the leader went away times out. Every
 * JetStream call a host makes (stream, consumer and bucket opens, journal publishes, lease claims
 * and renewals, snapshot writes) goes through `retryJetStream`, which calls again with backoff for
 * those errors until its budget is spent, then rejects with a `JetStreamUnavailableError` naming
 * what was tried, for how long and the last refusal.
 *
 * A create that races another process's create of the same stream may be refused as overlapping
 * it: that is retried a few times too (`OVERLAP_ATTEMPTS_MAX`).
 *
 * A refusal means the server stored nothing, so any call may be repeated after one. A timeout
 * does not say: a write may have been stored. So a timeout is retried only for a call marked
 * `repeatable` (a read, an idempotent create, a put whose repeat is harmless); a compare-and-set
 * write or a journal publish gets its timeout back, for its caller to find out what was stored.
 */

import { RequestLostError, RequestNotSentError } from "./connection_loss.ts";

/**
 * The API timeout of a JetStream client that creates consumers, ms. nats-server 2.9 may place an
 * ephemeral consumer on a stream peer that is down, and its create then times out: short, so that
 * the next try (which may land elsewhere) comes soon.
 */
export const CONSUMER_CREATE_TIMEOUT_MS = 2000;

/** How long a call waits out an election by default, ms (nats-server elects within ~2-10 s). */
export const ELECTION_BUDGET_MS = 20_000;
/** The first wait between attempts, ms; it doubles up to `RETRY_BACKOFF_MS_MAX`. */
export const RETRY_BACKOFF_MS_MIN = 100;
/** The longest wait between attempts, ms. */
export const RETRY_BACKOFF_MS_MAX = 1000;

/**
 * Attempts of a call JetStream answers "subjects overlap with an existing stream" (10065). That is
 * also what a create may get while another process creates the same stream (two hosts starting at
 * once), and the next attempt finds the stream made: a create takes milliseconds, and the attempts
 * 100, 200 and 400 ms apart outlast it. Past these it is another stream's subjects, said within a
 * second, and the error says which stream could not be made.
 */
export const OVERLAP_ATTEMPTS_MAX = 4;

/** JetStream's API error code for a stream whose subjects overlap another's. */
const SUBJECT_OVERLAP_CODE = 10065;

/** Options of `retryJetStream`. */
export interface RetryJetStreamOptions {
  /** How long to keep trying, ms, from the first attempt: `ELECTION_BUDGET_MS`. */
  budgetMs?: number;
  /** Whether a timed-out call may be repeated (a read, an idempotent write): false. */
  repeatable?: boolean;
  /** Called before each retry (for a log line), with the attempt number and the error. */
  onRetry?(attempt: number, err: unknown): void;
}

/** A JetStream call refused for longer than its budget: the cluster has no leader for it. */
export class JetStreamUnavailableError extends Error {
  override name = "JetStreamUnavailableError";
  /** How many attempts were made. */
  readonly attempts: number;
  constructor(message: string, options: { attempts: number; cause: unknown }) {
    super(message, { cause: options.cause });
    this.attempts = options.attempts;
  }
}

/**
 * How `err` came from a JetStream that could not answer: `"refused"` (nothing was stored),
 * `"timeout"` (the fate of a write is unknown), or undefined for any other error.
 */
export function electionError(err: unknown): "refused" | "timeout" | undefined {
  if (err instanceof JetStreamUnavailableError) return undefined; // its budget is spent
  if (err instanceof RequestLostError) return "timeout"; // lost with its server: fate unknown
  if (err instanceof RequestNotSentError) return "refused"; // held without a server: never sent
  const e = err as { name?: unknown; message?: unknown; code?: unknown } | undefined;
  // JetStreamApiError's code is the API error code.
  if (e?.code === 10008 || e?.code === 10009) return "refused";
  const message = String(e?.message ?? "");
  if (/jetstream is not enabled|no responders|temporarily unavailable/i.test(message)) {
    return "refused";
  }
  if (e?.name === "TimeoutError" || /timeout|timed out/i.test(message)) return "timeout";
  return undefined;
}

/**
 * Calls `call` until it succeeds, retrying (100 ms doubling to 1 s apart) what an election
 * refuses for `budgetMs`; `what` says what was tried (`"open stream TROUPE_FEED"`) in the error.
 */
export async function retryJetStream<T>(
  what: string,
  call: () => Promise<T>,
  options: RetryJetStreamOptions = {},
): Promise<T> {
  const budgetMs = options.budgetMs ?? ELECTION_BUDGET_MS;
  const t0 = performance.now();
  for (let attempt = 1;; attempt++) {
    try {
      return await call();
    } catch (err) {
      const overlap = (err as { code?: unknown } | undefined)?.code === SUBJECT_OVERLAP_CODE;
      if (overlap && attempt >= OVERLAP_ATTEMPTS_MAX) {
        throw new Error(
          `Cannot ${what}: ${(err as Error).message} (its subjects are another stream's)`,
          { cause: err },
        );
      }
      const kind = overlap ? "refused" : electionError(err);
      if (kind === undefined || (kind === "timeout" && !options.repeatable)) throw err;
      const spentMs = performance.now() - t0;
      // The last attempt is made when the budget runs out.
      const waitMs = Math.min(
        RETRY_BACKOFF_MS_MAX,
        RETRY_BACKOFF_MS_MIN * 2 ** (attempt - 1),
        budgetMs - spentMs,
      );
      if (waitMs <= 0) {
        throw new JetStreamUnavailableError(
          `Cannot ${what}: JetStream did not answer in ${Math.round(spentMs)} ms ` +
            `(${attempt} attempts, a budget of ${budgetMs} ms; ` +
            `is a cluster electing a leader, or JetStream off?): ${
              (err as Error)?.message ?? String(err)
            }`,
          { attempts: attempt, cause: err },
        );
      }
      options.onRetry?.(attempt, err);
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }
}
