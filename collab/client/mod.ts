/**
 * A y-websocket client of a session for a program rather than a page: it syncs the session's
 * document through the collab server as an editor or viewer, reads incidents' acks, writes acks
 * and silences, and waits for the answer the bridge writes back from the incident stage
 * (`troupe incidents`).
 */
export { type SessionTarget, SessionUnreachableError, withSession } from "./with_session.ts";
export {
  ackIncident,
  addSilence,
  endSilence,
  IncidentEditError,
  type IncidentEditTarget,
} from "./incident_edits.ts";
export { readSessionAcks, type SessionAcks, type SessionAcksTarget } from "./session_acks.ts";
