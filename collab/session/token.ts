/**
 * Signed session tokens: who may open which collaboration session, in which role, until when. A
 * token is `<payload>.<signature>`, both base64url: the payload is the JSON
 * `{ "v": 1, "kid", "session", "role", "exp" }` (expiry in seconds since the epoch) and the
 * signature its HMAC-SHA256 under the key named by `kid`. WebCrypto (`crypto.subtle`) signs and
 * verifies, so the same code runs on Node and Deno; the key id lets a server accept tokens of an
 * old key while it mints with a new one (see `Keyring`).
 */
import { isValidName } from "../../protocol/mod.ts";

/** What a token lets its holder do: watch, edit, or edit and administer. */
export type Role = "viewer" | "editor" | "owner";

/** The roles, weakest first. */
export const ROLES: readonly Role[] = ["viewer", "editor", "owner"];

/** What a valid token says. */
export interface TokenClaims {
  session: string;
  role: Role;
  /** Expiry, seconds since the epoch. */
  exp: number;
  /** The id of the key that signed it. */
  kid: string;
}

/**
 * Why a token was refused: `missing`, `malformed`, `signature`, `unknown_key`, `expired`,
 * `session`.
 */
export type TokenFailure =
  | "missing"
  | "malformed"
  | "signature"
  | "unknown_key"
  | "expired"
  | "session";

/** A token that does not admit its holder; `reason` is a short label for metrics. */
export class TokenError extends Error {
  override name = "TokenError";
  readonly reason: TokenFailure;
  constructor(reason: TokenFailure, message: string) {
    super(message);
    this.reason = reason;
  }
}

/**
 * Throws a TypeError naming the value when `session` is not a valid session name: 1 to 64 of
 * `A-Z a-z 0-9 _ -`, since it becomes a subject token (`troupe.collab.<session>`).
 */
export function checkSessionName(session: unknown): asserts session is string {
  if (!isValidName(session)) {
    throw new TypeError(
      `Session name must be 1 to 64 of A-Z a-z 0-9 _ -, got ${JSON.stringify(session)}`,
    );
  }
}

/** WebCrypto's key type, named the same way under Node's types and Deno's. */
type HmacKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

/** An HMAC key with its id. */
export interface TokenKey {
  kid: string;
  key: HmacKey;
}

/**
 * The keys a server signs and verifies with: the first signs, every one verifies (rotation: put
 * the new secret first and keep the old one until its tokens expire).
 */
export class Keyring {
  readonly keys: readonly TokenKey[];
  private constructor(keys: TokenKey[]) {
    this.keys = keys;
  }

  /** A keyring from raw secrets (at least 16 bytes each); the first one signs. */
  static async fromSecrets(secrets: readonly Uint8Array[]): Promise<Keyring> {
    if (secrets.length === 0) throw new TypeError("Cannot build a keyring from no secrets");
    const keys: TokenKey[] = [];
    for (const [i, secret] of secrets.entries()) {
      if (secret.length < 16) {
        throw new TypeError(`Token secret ${i} must be at least 16 bytes, got ${secret.length}`);
      }
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", own(secret)));
      const kid = toBase64Url(digest.subarray(0, 6));
      const key = await crypto.subtle.importKey(
        "raw",
        own(secret),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign", "verify"],
      );
      keys.push({ kid, key });
    }
    return new Keyring(keys);
  }

  /** The id of the key that signs. */
  get currentKid(): string {
    return this.keys[0]!.kid;
  }
}

/** Options of `mintToken`. */
export interface MintOptions {
  session: string;
  role: Role;
  /** Seconds the token is valid for. */
  ttlS: number;
  /** Now, in milliseconds since the epoch (the caller's clock; tests pass their own). */
  nowMs: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Mints a token signed with the keyring's current key. */
export async function mintToken(keyring: Keyring, options: MintOptions): Promise<string> {
  checkSessionName(options.session);
  if (!ROLES.includes(options.role)) {
    throw new TypeError(`Token role must be one of ${ROLES.join(", ")}, got ${options.role}`);
  }
  if (!Number.isFinite(options.ttlS) || options.ttlS <= 0) {
    throw new TypeError(`Token ttl must be a positive number of seconds, got ${options.ttlS}`);
  }
  const claims = {
    v: 1,
    kid: keyring.currentKid,
    session: options.session,
    role: options.role,
    exp: Math.floor(options.nowMs / 1000 + options.ttlS),
  };
  const payload = toBase64Url(encoder.encode(JSON.stringify(claims)));
  const sig = await crypto.subtle.sign("HMAC", keyring.keys[0]!.key, own(encoder.encode(payload)));
  return `${payload}.${toBase64Url(new Uint8Array(sig))}`;
}

/** Options of `verifyToken`. */
export interface VerifyOptions {
  /** The session the token must be for; `null`: any session (the stream gateway, whose live data
   *  is the same for every session). */
  session: string | null;
  nowMs: number;
}

/**
 * Checks `token` for `options.session`; returns its claims or throws a TokenError saying why not.
 */
export async function verifyToken(
  keyring: Keyring,
  token: string | null | undefined,
  options: VerifyOptions,
): Promise<TokenClaims> {
  if (token === null || token === undefined || token === "") {
    throw new TokenError("missing", "No token: pass one as the `token` query parameter");
  }
  const dot = token.indexOf(".");
  if (token.length > 2048 || dot <= 0 || dot !== token.lastIndexOf(".")) {
    throw new TokenError("malformed", `Token is not <payload>.<signature> (${token.length} chars)`);
  }
  const payloadText = token.slice(0, dot);
  const sig = fromBase64Url(token.slice(dot + 1));
  const payloadBytes = fromBase64Url(payloadText);
  if (!sig || !payloadBytes) throw new TokenError("malformed", "Token is not base64url");
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(payloadBytes));
  } catch {
    throw new TokenError("malformed", "Token payload is not JSON");
  }
  const claims = raw as Record<string, unknown>;
  if (
    raw === null || typeof raw !== "object" || claims.v !== 1 || typeof claims.kid !== "string" ||
    typeof claims.session !== "string" || !ROLES.includes(claims.role as Role) ||
    typeof claims.exp !== "number"
  ) {
    throw new TokenError("malformed", "Token payload lacks v, kid, session, role or exp");
  }
  const key = keyring.keys.find((k) => k.kid === claims.kid);
  if (!key) throw new TokenError("unknown_key", `Token key id "${claims.kid}" is not known here`);
  const ok = await crypto.subtle.verify(
    "HMAC",
    key.key,
    own(sig),
    own(encoder.encode(payloadText)),
  );
  if (!ok) throw new TokenError("signature", "Token signature does not match");
  if (claims.exp * 1000 <= options.nowMs) {
    throw new TokenError(
      "expired",
      `Token expired at ${new Date(claims.exp * 1000).toISOString()}`,
    );
  }
  if (options.session !== null && claims.session !== options.session) {
    throw new TokenError(
      "session",
      `Token is for session "${claims.session}", not "${options.session}"`,
    );
  }
  return {
    session: claims.session,
    role: claims.role as Role,
    exp: claims.exp,
    kid: claims.kid,
  };
}

/** Options of `admitToken`. */
export interface AdmitOptions extends VerifyOptions {
  keyring: Keyring;
  /** Counts a refusal by its reason (the door's metric). */
  onRefused?(reason: TokenFailure): void;
}

/**
 * The one token check of every door (the collab and stream upgrades, `/api/*`): verifies the
 * `token` query parameter of `url`. A refused token is answered once, here, by
 * `deny(401, why)` (an upgrade answers on the socket, a request on its response), counted by
 * `onRefused`, and gives undefined; any other error is thrown.
 */
export async function admitToken(
  url: URL,
  options: AdmitOptions,
  deny: (status: 401, message: string) => void,
): Promise<TokenClaims | undefined> {
  try {
    return await verifyToken(options.keyring, url.searchParams.get("token"), options);
  } catch (err) {
    if (!(err instanceof TokenError)) throw err;
    options.onRefused?.(err.reason);
    deny(401, err.message);
    return undefined;
  }
}

/** Whether `role` may change the document. */
export function canWrite(role: Role): boolean {
  return role !== "viewer";
}

function toBase64Url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    const s = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

/** Parses a duration such as `90s`, `30m`, `8h`, `7d` (or plain seconds) into seconds. */
export function parseTtl(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)?$/.exec(text.trim());
  const value = m ? Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? "s") as "s"] : NaN;
  if (!m || !(value > 0)) {
    throw new TypeError(`must be a positive duration such as 90s, 30m, 8h or 7d, got "${text}"`);
  }
  return value;
}

/** A copy over a plain ArrayBuffer, as WebCrypto's types ask. */
function own(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}
