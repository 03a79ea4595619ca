/**
 * The group's phase, `normal`, `coherent` (it moves as one: the absorption ratio is well above its
 * long-run level) or `fragmented` (well below), with hysteresis on the standardized shift so that
 * a shift hovering at a threshold does not flap: a group becomes coherent at `coherent_enter` and
 * stays so until the shift falls to `coherent_exit`; fragmented at `fragmented_enter` until it
 * rises to `fragmented_exit`. A shift that jumps across both bands moves straight from one extreme
 * to the other. The kernel judges every bar with it, so the phase changes are the same however the
 * samples were framed; the machine announces them.
 */
import type { CoherenceConfig } from "./config.ts";

/** The group's phases (the machine's states). */
export type CoherencePhase = "normal" | "coherent" | "fragmented";

type Thresholds = Pick<
  CoherenceConfig,
  "coherent_enter" | "coherent_exit" | "fragmented_enter" | "fragmented_exit"
>;

/** The phase after a bar whose shift is `shift` (a non-finite shift changes nothing). */
export function nextPhase(phase: CoherencePhase, shift: number, t: Thresholds): CoherencePhase {
  if (!Number.isFinite(shift)) return phase;
  switch (phase) {
    case "normal":
      if (shift >= t.coherent_enter) return "coherent";
      if (shift <= t.fragmented_enter) return "fragmented";
      return phase;
    case "coherent":
      if (shift <= t.fragmented_enter) return "fragmented";
      if (shift <= t.coherent_exit) return "normal";
      return phase;
    case "fragmented":
      if (shift >= t.coherent_enter) return "coherent";
      if (shift >= t.fragmented_exit) return "normal";
      return phase;
  }
}
