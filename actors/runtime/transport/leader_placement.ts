/**
 * Keeps the data's leaders off the JetStream meta leader's node. nats-server 2.9 tends to give a
 * stream created while node A is the meta leader its first leader on A too (A forms the stream's
 * group first and campaigns first), so one node leads the meta group, the lease bucket, the
 * journal and often the feed. Killing it then stalls everything at once, and each stall waits on
 * the other: a lease renewal waits for the bucket's election, and a consumer lost with the node
 * is made again only once the meta group has a leader. nats-server sets a raft follower's wait for
 * a lost leader at 4-9 s (raft.go's election timeouts, not configurable in 2.9), so a host whose
 * lease bucket leader dies cannot renew within a lease TTL of 5 s; what can be chosen is that the
 * meta leader's death touches no data leader. So a host, as it joins, asks every stream of troupe's
 * whose leader sits on the meta leader's node to step down (its group elects another at once),
 * and a feed consumer placed there is made again elsewhere (jetstream_input.ts).
 *
 * A client is not told which node leads the meta group; it learns it from the JetStream API's
 * audit advisory (`$JS.EVENT.ADVISORY.API`, which names the server that answered): an account
 * info request is answered by the meta leader only.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { describeError } from "../operations/mod.ts";

/** How long the meta leader's name is waited for, ms. */
export const META_LEADER_TIMEOUT_MS = 1000;
/** Stepdowns asked of one stream at most (two hosts joining at once may move it back). */
const STEPDOWNS_MAX = 4;
/** How long a stream is given to elect its next leader after a stepdown, ms. */
const STEPDOWN_SETTLE_MS = 5000;

/** The name of the node leading the JetStream meta group; undefined when none answers in time. */
export async function metaLeader(
  nc: NatsConnection,
  timeoutMs = META_LEADER_TIMEOUT_MS,
): Promise<string | undefined> {
  if (!nc.info?.cluster) return undefined; // a single server leads everything
  const audits = nc.subscribe("$JS.EVENT.ADVISORY.API", { max: 10_000 });
  const timer = setTimeout(() => audits.unsubscribe(), timeoutMs);
  try {
    // The advisory follows the answer; any account info answer comes from the meta leader.
    nc.request("$JS.API.INFO", undefined, { timeout: timeoutMs }).catch(() => {});
    for await (const m of audits) {
      try {
        const a = m.json<{ server?: unknown; subject?: unknown }>();
        if (a.subject === "$JS.API.INFO" && typeof a.server === "string") return a.server;
      } catch {
        // Not an audit: passed over.
      }
    }
    return undefined;
  } finally {
    clearTimeout(timer);
    audits.unsubscribe();
  }
}

/** What `placeLeaders` did to one stream. */
export interface LeaderMove {
  stream: string;
  from: string;
  to: string | undefined;
}

/**
 * Asks each of `streams` (those that exist, every replica current) whose leader sits on the
 * meta leader's node to step down, until its leader is elsewhere (a few tries); returns the moves
 * made. Errors are not thrown: a placement is a preference, and `log` says what could not be done.
 */
export async function placeLeaders(
  nc: NatsConnection,
  streams: readonly string[],
  log: (message: string) => void,
): Promise<LeaderMove[]> {
  const meta = await metaLeader(nc);
  if (meta === undefined) return [];
  const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: 2000 });
  const infoOf = async (stream: string) => {
    try {
      return await jsm.streams.info(stream);
    } catch {
      return undefined; // missing, or electing: left as it is
    }
  };
  const leaderOf = async (stream: string) => (await infoOf(stream))?.cluster?.leader;
  const moves: LeaderMove[] = [];
  await Promise.all(streams.map(async (stream) => {
    const info = await infoOf(stream);
    let leader = info?.cluster?.leader;
    if (leader !== meta) return;
    // A replica down, behind or not listed (a node lost, not back yet): a stepdown now costs the
    // stream an election, its writes in flight their answers, and buys nothing, since a second
    // node's loss would leave no quorum anyway. The leader is moved once every replica is current.
    const replicas = info?.cluster?.replicas ?? [];
    const others = (info?.config.num_replicas ?? 1) - 1;
    if (replicas.length < others || replicas.some((r) => r.offline || !r.current)) return;
    for (let i = 0; i < STEPDOWNS_MAX && leader === meta; i++) {
      try {
        await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, undefined, { timeout: 2000 });
      } catch (err) {
        log(`placement: cannot move the leader of ${stream} off ${meta}: ${describeError(err)}`);
        return;
      }
      const end = Date.now() + STEPDOWN_SETTLE_MS;
      do {
        await new Promise((r) => setTimeout(r, 100));
        leader = await leaderOf(stream);
      } while ((leader === undefined || leader === meta) && Date.now() < end);
    }
    moves.push({ stream, from: meta, to: leader });
  }));
  return moves;
}

/** How often a host looks again at where the leaders are, ms (the meta leader may have moved). */
export const PLACEMENT_EVERY_MS = 30_000;

/** A running placement: looks again every `PLACEMENT_EVERY_MS` until stopped. */
export interface LeaderPlacement {
  stop(): Promise<void>;
}

/**
 * Places `streams`' leaders now (see `placeLeaders`), then again every `everyMs`: after a node's
 * loss the new meta leader may be a node that leads data, and the next loss would stall both.
 */
export async function keepLeadersPlaced(
  nc: NatsConnection,
  streams: readonly string[],
  options: { log: (message: string) => void; everyMs?: number },
): Promise<LeaderPlacement> {
  const { log } = options;
  const round = async () => {
    for (const m of await placeLeaders(nc, streams, log)) {
      log(`placement: ${m.stream}'s leader moved off the meta leader ${m.from} to ${m.to ?? "?"}`);
    }
  };
  await round();
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const next = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = round().catch((err) => log(`placement: ${describeError(err)}`)).finally(next);
    }, options.everyMs ?? PLACEMENT_EVERY_MS);
    (timer as { unref?: () => void }).unref?.();
  };
  next();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
