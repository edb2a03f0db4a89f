import type { IncomingMessage, ServerResponse } from 'node:http';

export type Args = Record<string, unknown>;

export type ParsedCall = { ok: true; args: Args; token?: string } | { ok: false; args: Args; error: string };

/** Arguments Slack takes as JSON even in a form body; @slack/web-api JSON-encodes every array or object argument. */
const JSON_ARGS = ['blocks', 'attachments', 'metadata'];

/** The media type without parameters: `application/json; charset=utf-8` → `application/json`. */
export const mediaType = (req: IncomingMessage) => (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();

/**
 * A Web API call's arguments, from the query string and a form or JSON body, as Slack reads them. The token comes
 * from `Authorization: Bearer`, or from a `token` argument in the query or a form body; Slack ignores a `token`
 * inside a JSON body (JSON calls must authenticate with the header).
 */
export function parseApiCall(req: IncomingMessage, query: URLSearchParams, raw: string): ParsedCall {
  const args: Args = Object.fromEntries(query);
  let argToken = query.get('token') ?? undefined;
  const type = mediaType(req);
  if (raw.length > 0) {
    if (type === 'application/x-www-form-urlencoded') {
      const form = new URLSearchParams(raw);
      argToken = form.get('token') ?? argToken;
      Object.assign(args, Object.fromEntries(form));
      for (const key of JSON_ARGS) if (typeof args[key] === 'string') args[key] = parseJsonArg(args[key]);
    } else if (type === 'application/json') {
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        return failed(args, 'invalid_json');
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) return failed(args, 'json_not_object');
      Object.assign(args, body);
    } else {
      return failed(args, type ? 'invalid_post_type' : 'missing_post_type');
    }
  }
  delete args.token;
  const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? (argToken || undefined);
  return token ? { ok: true, args, token } : { ok: true, args };
}

/** Tokens never reach the record. */
function failed(args: Args, error: string): ParsedCall {
  delete args.token;
  return { ok: false, args, error };
}

/** Leaves a malformed value as its string, so validation answers `invalid_blocks_format` as Slack does. */
function parseJsonArg(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}
