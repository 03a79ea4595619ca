/**
 * The anomaly kernel's shift view (actors/anomaly/_shift.ts) scores its decision, not its running
 * sum: a CUSUM still climbing towards its alarm has decided nothing, so the view scores 0 until
 * its sum reaches the alarm's bits (and the change is accepted), then those bits.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createShiftState, SHIFT_SAMPLE, stepShift } from "../../../actors/anomaly/_shift.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("anomaly shift view");

const HOURS = 24;
const PER_HOUR = 12; // 5-minute samples
const ALARM_BITS = 5; // the default threshold's bits, at which the view accepts a change

test("stepShift() scores 0 below its alarm and at least the alarm's bits when it alarms", () => {
  const seed = 30;
  const rng = new Prng(seed);
  const sh = createShiftState(HOURS);
  const days = 18, n = days * HOURS * PER_HOUR;
  let between = 0, alarms = 0, maxBetween = 0;
  for (let i = 0; i < n; i++) {
    const hour = Math.floor(i / PER_HOUR) % HOURS, frac = (i % PER_HOUR) / PER_HOUR;
    const near = frac >= 0.5 ? (hour + 1) % HOURS : (hour + HOURS - 1) % HOURS;
    // A daily season with noise, and from day 14 on a lasting level shift of 1 sd: the sum
    // climbs through the bits below the alarm on the way to it (and noise alone now and then).
    const shift = i >= 14 * HOURS * PER_HOUR + 100 ? 1 : 0;
    SHIFT_SAMPLE[0] = 10 * Math.sin((2 * Math.PI * hour) / HOURS) + rng.normal() + shift;
    SHIFT_SAMPLE[1] = frac;
    const bits = stepShift(sh, hour, true, near);
    if (bits >= ALARM_BITS) alarms++;
    else if (bits > 0) {
      between++;
      maxBetween = Math.max(maxBetween, bits);
    }
  }
  assert.ok(alarms > 0, `seed ${seed}: the view never alarmed`);
  assert.is(
    between,
    0,
    `seed ${seed}: ${between} samples scored between 0 and ${ALARM_BITS} bits (up to ${
      maxBetween.toFixed(2)
    })`,
  );
});

test.run();
