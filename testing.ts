/**
 * troupe's test kit (`troupe/testing`): run a kind frame by frame as a host does, and check that
 * save-then-load changes nothing (under the defaults and settings off them), that framing changes
 * no finding, that the kernel reads no clock and no Math.random, that its module keeps nothing
 * of its own between loads, that a control change is applied and kept, and that a recording
 * still replays to the same outputs.
 */
export * from "./sim/kit/mod.ts";
