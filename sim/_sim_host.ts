/**
 * One host of a simulated cluster as the cluster and its checks see it, across its incarnations
 * (_sim_cluster.ts starts, crashes and restarts it).
 */
import type { Host } from "../actors/runtime/mod.ts";
import type { SimDisk } from "./_sim_disk.ts";
import type { TimerGroup } from "./scheduler.ts";
import type { SimConnection } from "./sim_bus.ts";

/** One host of the cluster, across its incarnations. */
export interface SimHost {
  id: string;
  index: number;
  owned: number[];
  disk: SimDisk;
  /** How far this host's wall clock is off (it is used for timing and metrics, never for state). */
  clockSkewUs: number;
  incarnation: number;
  up: boolean;
  host: Host | undefined;
  conn: SimConnection | undefined;
  timers: TimerGroup | undefined;
  kill: (() => void) | undefined;
  /** A restart is scheduled. */
  restarting: boolean;
  /** A clean stop is under way. */
  stopping: boolean;
  /**
   * The threads of this host's process, itself among them ([itself] for a host on one thread):
   * they crash, stop and restart together.
   */
  threads: SimHost[];
}

/** A host at `place` before its first start: down, no incarnation yet. */
export function downHost(
  place: Pick<SimHost, "id" | "index" | "owned" | "disk" | "clockSkewUs">,
): SimHost {
  const h: SimHost = {
    ...place,
    incarnation: 0,
    up: false,
    host: undefined,
    conn: undefined,
    timers: undefined,
    kill: undefined,
    restarting: false,
    stopping: false,
    threads: [],
  };
  h.threads.push(h);
  return h;
}
