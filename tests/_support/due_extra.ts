/**
 * A snapshotter's `extra` as the edge's decisions give it (host/input_through.ts): a snapshot once
 * for each position made due (`due`), none when asked again; and the positions `extraSaved` was
 * told of, in order.
 */
import type { Snapshot } from "../../actors/runtime/snapshots/mod.ts";
import type { SnapshotterOptions } from "../../actors/runtime/recovery/snapshotter.ts";

export interface DueExtra {
  /** The options to give the snapshotter. */
  options: Required<Pick<SnapshotterOptions, "extra" | "extraSaved">>;
  /** Makes a snapshot at `pos` due. */
  due(pos: number): void;
  /** The positions saved. */
  saved: number[];
}

export function dueExtra(): DueExtra {
  let due = 0;
  const saved: number[] = [];
  return {
    options: {
      extra: () => {
        const pos = due;
        due = 0;
        return pos > 0 ? edgeSnapshot(pos) : undefined;
      },
      extraSaved: (snap) => void saved.push(snap.pos),
    },
    due: (pos) => void (due = pos),
    saved,
  };
}

function edgeSnapshot(pos: number): Snapshot {
  return { stream: "_edge.h", version: 1, pos, machine: {}, kernel: new Uint8Array(0) };
}
