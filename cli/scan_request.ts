/**
 * `troupe scan`'s request read from its options (the criteria, ranking, bar, universe, limits; a
 * bad one is a UsageError naming it), and the host it goes to with the credentials it carries.
 */
import { existsSync, readFileSync } from "node:fs";
import process from "node:process";
import { authorizationHeader, type HttpCredentials } from "../protocol/mod.ts";
import { given, optNum, type ParsedArgs, str, text, UsageError } from "./args.ts";
import { resolveHttpUrl } from "../actors/cluster/data_dir/mod.ts";
import { envToken, HTTP_TOKEN_ENV } from "./http_settings.ts";

/** The request body the options describe; throws UsageError on a bad option. */
export function scanRequest(args: ParsedArgs): Record<string, unknown> {
  if (args.positionals.length !== 1) {
    throw new UsageError(
      args.positionals.length === 0
        ? "troupe scan needs a criteria, e.g. troupe scan 'rsi(14) < 30'"
        : `troupe scan takes one criteria (quote it), got ${args.positionals.length} arguments: ` +
          args.positionals.map((p) => `"${p}"`).join(" "),
    );
  }
  const request: Record<string, unknown> = { criteria: args.positionals[0] };
  const rank = str(args, "rank");
  if (rank !== undefined) request.rank = rank;
  // Absent, the server orders by its own default, the one help shows.
  if (given(args, "order")) request.order = text(args, "order");
  request.bar = text(args, "bar");
  const universe = str(args, "universe");
  if (universe !== undefined) request.universe = universeOf(universe);
  const max = optNum(args, "max");
  if (max !== undefined) request.max_signals = max;
  const timeout = optNum(args, "timeout");
  if (timeout !== undefined) request.timeout_ms = timeout;
  return request;
}

/** A file's symbols, or a `PREFIX*` pattern. */
function universeOf(value: string): string[] | string {
  if (existsSync(value)) {
    const symbols = readFileSync(value, "utf8").split(/[\s,]+/).filter((s) => s !== "");
    if (symbols.length === 0) throw new UsageError(`Option --universe: file ${value} is empty`);
    return symbols;
  }
  const prefix = value.endsWith("*") ? value.slice(0, -1) : value;
  if (prefix.includes("*") || /[\s/\\]/.test(prefix)) {
    throw new UsageError(
      `Option --universe must be a file of symbols or a symbol prefix, got "${value}" ` +
        "(no such file)",
    );
  }
  return `${prefix}*`;
}

/**
 * The host's base URL and the header that carries its credentials: a user and password given in
 * the URL (taken out of it: fetch refuses a URL with them), else `TROUPE_HTTP_TOKEN`'s bearer
 * token, else none.
 */
export function hostAccess(args: ParsedArgs): { base: string; auth: Record<string, string> } {
  const { url } = resolveHttpUrl(str(args, "url"), text(args, "data-dir"));
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`Option --url must be an http:// URL, got "${url}"`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new UsageError(`Option --url must be an http:// URL, got "${describeUrl(parsed)}"`);
  }
  const credentials: HttpCredentials = parsed.username !== ""
    ? {
      basicAuth: {
        username: decodeURIComponent(parsed.username),
        password: decodeURIComponent(parsed.password),
      },
    }
    : { bearerToken: envToken(process.env, HTTP_TOKEN_ENV) };
  parsed.username = "";
  parsed.password = "";
  const header = authorizationHeader(credentials);
  return {
    base: parsed.href.replace(/\/+$/, ""),
    auth: header === undefined ? {} : { authorization: header },
  };
}

/** `url` without its password, for a message. */
function describeUrl(url: URL): string {
  const shown = new URL(url.href);
  if (shown.password !== "") shown.password = "***";
  return shown.href;
}
