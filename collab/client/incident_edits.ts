/**
 * Incidents' acks and silences written through the collab server as any editor writes them, each
 * resolving with the line that reports the incident stage's answer, which the bridge writes back
 * into the document. A write the document's schema refuses throws its SessionDocError before
 * anything waits; a refusal by the stage, an unknown silence or no answer in time throws an
 * IncidentEditError.
 */
import { SessionDocError, type SessionIncidents } from "../session/mod.ts";
import { pollUntil } from "./_poll_until.ts";
import { type SessionTarget, withSession } from "./with_session.ts";

/** Where and as whom the edit is made. */
export interface IncidentEditTarget extends SessionTarget {
  by: string;
}

/** The stage refused the edit, did not answer in time, or the token may not write. */
export class IncidentEditError extends Error {
  override name = "IncidentEditError";
}

/** Acknowledges incident `id`; resolves with the line to print once the stage answered. */
export function ackIncident(t: IncidentEditTarget, id: string, note: string): Promise<string> {
  return withDoc(t, (inc) => {
    const at_ms = Date.now();
    inc.ack({ incident: id, by: t.by, at_ms, note });
    return () => {
      const a = inc.ackOf(id);
      if (a?.at_ms !== at_ms || a.status === "pending" || a.status === undefined) return undefined;
      if (a.status === "error") throw new IncidentEditError(`ack of ${id} refused: ${a.detail}`);
      // The stage's answer names the incident again ("acknowledged <id> (firing, 7 member(s))"):
      // the line says it once, with what the stage holds.
      const held = a.detail?.startsWith(`acknowledged ${id} `)
        ? a.detail.slice(`acknowledged ${id} `.length)
        : `: ${a.detail}`;
      return `acknowledged ${id} as ${t.by}${note ? ` ("${note}")` : ""} ${held}`;
    };
  });
}

/** Adds a silence for `forS` seconds from now; resolves with the line to print once answered. */
export function addSilence(
  t: IncidentEditTarget,
  matchers: string,
  options: { forS: number; reason: string },
): Promise<string> {
  const forS = options.forS;
  return withDoc(t, (inc) => {
    const now = Date.now();
    const id = inc.addSilence({
      matchers,
      ends_ms: now + Math.round(forS * 1000),
      by: t.by,
      reason: options.reason,
    }, now).id;
    return () =>
      answered(
        inc,
        id,
        (s) =>
          `silence ${id}: ${s.matchers} until ${new Date(s.ends_ms).toISOString()} by ${s.by} ` +
          `("${s.reason}"); unsilence with: troupe incidents unsilence ${id}`,
      );
  });
}

/** Ends silence `id` now; resolves with the line to print once the stage answered. */
export function endSilence(t: IncidentEditTarget, id: string): Promise<string> {
  return withDoc(t, (inc) => {
    try {
      inc.endSilence(id, t.by, Date.now());
    } catch (err) {
      if (err instanceof SessionDocError) throw new IncidentEditError(err.message);
      throw err;
    }
    return () =>
      answered(
        inc,
        id,
        (s) =>
          `silence ${id} (${s.matchers}) ended by ${
            s.by === t.by ? t.by : `${t.by} (set by ${s.by})`
          }`,
      );
  });
}

function answered(
  inc: SessionIncidents,
  id: string,
  line: (s: NonNullable<ReturnType<SessionIncidents["silences"]["get"]>>) => string,
): string | undefined {
  const s = inc.silences.get(id);
  if (s === undefined || s.status === "pending" || s.status === undefined) return undefined;
  if (s.status === "error") {
    throw new IncidentEditError(`silence ${id} refused by the stage: ${s.detail}`);
  }
  return `${line(s)}; the stage: ${s.detail}`;
}

/**
 * Connects to the session, makes the edit `write` makes once synced, then polls the check it
 * returns until it gives the line to print (the bridge's answer) or the time runs out.
 */
async function withDoc(
  t: IncidentEditTarget,
  write: (inc: SessionIncidents) => () => string | undefined,
): Promise<string> {
  if (claimedRole(t.token) === "viewer") {
    // The collab server drops a viewer's writes (and is the authority on the signature): said
    // here at once, instead of "written" and a wait for an answer that cannot come.
    throw new IncidentEditError(
      `a viewer's token may not acknowledge or silence (the collab server drops a viewer's ` +
        `writes): pass an editor's, troupe token --session ${t.session} --role editor`,
    );
  }
  return await withSession(t, async (inc) => {
    const check = write(inc);
    const line = await pollUntil(check, t.timeoutMs);
    if (line === undefined) {
      throw new IncidentEditError(
        `written to session "${t.session}", but no answer from the incident stage within ` +
          `${t.timeoutMs} ms (the document keeps the entry)`,
      );
    }
    return line;
  });
}

/** The role a token's payload claims, unverified (the server verifies it); undefined if none. */
function claimedRole(token: string): string | undefined {
  try {
    const b64 = token.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/");
    const claims: unknown = JSON.parse(atob(b64));
    const role = (claims as { role?: unknown } | null)?.role;
    return typeof role === "string" ? role : undefined;
  } catch {
    return undefined;
  }
}
