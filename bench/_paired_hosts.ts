/**
 * Two one-thread hosts side by side for `bench pipeline`, each on a NATS connection and a feed of
 * its own and wired alike but for what the comparison is about: `--deadline`'s (the host with its
 * step watchdog against the same host without one) and `--team-kind`'s (the kind run as a team's,
 * its steps tried on a worker thread first under their deadline, against the same kind run once on
 * the host's thread: actors/runtime/host/step_trials.ts).
 */
import { join } from "node:path";
import {
  coreInput,
  type HostConfig,
  type LaunchedHost,
  launchHost,
  type LaunchOptions,
  NatsBus,
} from "../actors/runtime/mod.ts";
import type { AnyActorDefinition } from "../protocol/mod.ts";
import { areaPrefix, feedPattern } from "../protocol/mod.ts";
import { ACTOR_KINDS_MODULE } from "../actors/mod.ts";

/** One of the two: its name, feed, configuration and what its launch differs by. */
export interface PairedHost {
  name: string;
  feed: string;
  /** Its configuration, given the directory it is kept in. */
  config(dir: string): HostConfig;
  options: Pick<LaunchOptions, "stepDeadlines" | "teamKinds">;
}

/** A host the injector can feed: where its frames go and how many it has applied. */
export interface PairedReceiver {
  name: string;
  prefix: string;
  consumed(): number;
}

/** The two hosts, started, and their close. */
export interface HostPair {
  host: PairedReceiver;
  one: PairedReceiver;
  close(): Promise<void>;
}

/** Starts the host under test and its baseline; on a failure closes what it opened. */
export async function startHostPair(
  natsUrl: string,
  dir: string,
  pair: { tested: PairedHost; baseline: PairedHost; def: AnyActorDefinition },
  log: (m: string) => void,
): Promise<HostPair> {
  const kinds = { [pair.def.kind]: pair.def };
  const opened: Array<() => Promise<void>> = [];
  const launch = async (sub: string, spec: PairedHost): Promise<LaunchedHost> => {
    const bus = await NatsBus.connect(natsUrl, { name: `bench-${sub}` });
    opened.push(() => bus.close());
    const launched = await launchHost(spec.config(join(dir, sub)), kinds, {
      log,
      bus,
      input: coreInput(bus, feedPattern(spec.feed)),
      ...spec.options,
    });
    opened.push(() => launched.close());
    return launched;
  };
  const closeAll = async () => {
    for (const close of opened.reverse()) await close().catch(() => {});
  };
  let tested: LaunchedHost, baseline: LaunchedHost;
  try {
    tested = await launch("host", pair.tested);
    baseline = await launch("one", pair.baseline);
  } catch (err) {
    await closeAll();
    throw err;
  }
  const receiver = (spec: PairedHost, launched: LaunchedHost): PairedReceiver => ({
    name: spec.name,
    prefix: areaPrefix("feed") + spec.feed,
    consumed: () => launched.host.applied.get(pair.def.kind) ?? 0,
  });
  return {
    host: receiver(pair.tested, tested),
    one: receiver(pair.baseline, baseline),
    close: closeAll,
  };
}

/** `--deadline`'s pair: steps with a deadline (the watchdog, as `troupe run` runs), and without. */
export function deadlinePair(
  name: string,
  feeds: [string, string],
  config: (dir: string) => HostConfig,
): { tested: PairedHost; baseline: PairedHost } {
  return {
    tested: { name: `${name}, steps with a deadline`, feed: feeds[0], config, options: {} },
    baseline: {
      name: `${name}, steps without one`,
      feed: feeds[1],
      config,
      options: { stepDeadlines: false },
    },
  };
}

/**
 * `--team-kind`'s pair: `kind` as a team's kind (from a kinds module: troupe's own here, whose
 * kinds a trials thread loads as it would a team's), its steps tried on a worker thread first, and
 * the same run on the host's thread (`supervision.isolate_user_kinds: false`), both with the
 * watchdog as `troupe run` runs them.
 */
export function teamKindPair(
  name: string,
  kind: string,
  feeds: [string, string],
  config: (dir: string) => HostConfig,
): { tested: PairedHost; baseline: PairedHost } {
  const teamKinds = { module: ACTOR_KINDS_MODULE, kinds: [kind] };
  const isolated = (isolate: boolean) => (dir: string) => {
    const c = config(dir);
    c.supervision = { ...c.supervision, isolate_user_kinds: isolate };
    return c;
  };
  return {
    tested: {
      name: `${name}, a team's kind on a worker thread first`,
      feed: feeds[0],
      config: isolated(true),
      options: { teamKinds },
    },
    baseline: {
      name: `${name}, a team's kind on the host's thread`,
      feed: feeds[1],
      config: isolated(false),
      options: { teamKinds },
    },
  };
}
