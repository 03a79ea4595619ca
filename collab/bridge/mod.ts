/**
 * The bridges between a session and the cluster: threshold changes in the document sent to the
 * hosts as control messages (and the settings they report applied, written back), and incidents
 * from the bus written into the session's document.
 */
export { attachBridge, type BridgeOptions } from "./bridge.ts";
export { attachIncidentBridge } from "./incident_bridge.ts";
