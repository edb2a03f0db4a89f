import { type LoggerOptions, stdSerializers } from 'pino';

/**
 * The first line of an error's message (of anything thrown): what a log field, a chat reply or a configuration
 * problem shows. viem and ioredis errors run over many lines of details and a stack-like trail.
 */
export function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'unknown error';
}

/**
 * A URL as logs and errors may show it: scheme, host and port only. Hosted RPC endpoints carry their API key in the
 * path (`https://mainnet.infura.io/v3/<key>`, QuickNode's `/<token>/`) or the query (`?apikey=`), Redis URLs a
 * password, Discord webhook URLs a token: none of that may reach a log, a chat reply or an error.
 */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return u.host ? `${u.protocol}//${u.host}` : `${u.protocol}(opaque URL)`;
  } catch {
    return '(not a URL)';
  }
}

/** Anything that looks like an absolute URL in free text (an error message, a response body). */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`\\]+/gi;
/**
 * Discord interaction and webhook tokens travel in paths (`/webhooks/<application>/<token>/…`,
 * `/interactions/<id>/<token>/callback`), also in relative ones discord.js puts in its errors.
 */
const DISCORD_TOKEN_PATH = /\b(webhooks|interactions)\/([^/\s"'?]+)\/[^/\s"'?]+/gi;

/** Free text with every URL cut to scheme, host and port, and Discord tokens in paths masked. */
export function scrubSecrets(text: string): string {
  return text
    .replace(URL_IN_TEXT, (found) => {
      // Punctuation after a URL in a sentence ("… at http://node:8545: HTTP 503") is the sentence's.
      const trailing = /[.,;:)\]]+$/.exec(found)?.[0] ?? '';
      return safeUrl(found.slice(0, found.length - trailing.length)) + trailing;
    })
    .replace(DISCORD_TOKEN_PATH, '$1/$2/***');
}

/** A value of a log line with every string in it scrubbed (bounded depth: log fields are shallow). */
function scrubValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (depth > 4 || value === null || typeof value !== 'object' || value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubValue(v, depth + 1)]));
}

/** Field names whose value is a credential wherever they appear in a log line. */
const SECRET_FIELDS = ['token', 'secret', 'password', 'signingSecret', 'apiKey', 'authorization', 'Authorization', 'cookie'];
/** Field names holding a URL: kept, cut to scheme, host and port. */
const URL_FIELDS = ['url', 'rpcUrl', 'redisUrl', 'apiUrl', 'endpoint'];

/**
 * What every xmsg logger is created with: pino's `redact` for credentials and URLs in known fields (one and two
 * levels deep, and in headers), and every other string of a log line, its message and its error scrubbed
 * (`scrubSecrets`), because viem, discord.js and fetch put URLs in their error texts and properties.
 */
export const safeLogging: Pick<LoggerOptions, 'redact' | 'serializers' | 'formatters'> = {
  redact: {
    paths: [
      ...[...SECRET_FIELDS, ...URL_FIELDS].flatMap((f) => [f, `*.${f}`]),
      ...['headers', 'req.headers', 'err.headers', 'err.requestHeaders'].flatMap((h) => [`${h}.authorization`, `${h}.cookie`]),
      // Request bodies (viem's, discord.js') say what was asked, with whatever it was asked with.
      'err.body',
      'err.requestBody',
      'err.rawError',
    ],
    censor: (value: unknown, path: string[]) => {
      const field = path[path.length - 1] ?? '';
      if (!URL_FIELDS.includes(field) || typeof value !== 'string') return '[redacted]';
      // A request path (the HTTP server logs req.url) has no host; its query string may carry a token.
      return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? safeUrl(value) : scrubSecrets(value.split('?')[0] ?? '');
    },
  },
  serializers: {
    // Through JSON: the serialized error's nested errors and properties become plain values that can be scrubbed.
    err: (err: unknown) =>
      scrubValue(JSON.parse(JSON.stringify(stdSerializers.err(err as Error), (_, v) => (typeof v === 'bigint' ? String(v) : v)) ?? 'null')),
    msg: (msg: unknown) => scrubValue(msg),
  },
  formatters: {
    log: (fields) => scrubValue(fields) as Record<string, unknown>,
  },
};
