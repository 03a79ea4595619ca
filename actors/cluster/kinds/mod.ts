/**
 * The kinds a cluster runs, troupe's own and a team's, loaded through one door, and the module
 * its worker threads load them from. Entered by the commands directly, without the cluster's
 * mod.ts, so that one that only loads kinds (ctl, sim, watch, replay) loads no more.
 */
export { BUILT_IN_KINDS, type HostKinds, hostKinds, kindSpecsOf } from "./host_kinds.ts";
export { kindsModuleText, kindsModuleUrl, teamKindsOf, teamOf } from "./kinds_module_file.ts";
