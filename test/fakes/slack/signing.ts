import { createHmac } from 'node:crypto';

export interface SignedHeaders {
  'x-slack-request-timestamp': string;
  'x-slack-signature': string;
  'content-type': string;
}

/** Overrides for negative tests: a stale or future `timestamp` (seconds) and a forged signature. */
export interface SigningOverrides {
  timestamp?: number;
  signatureOverride?: string;
}

export interface SlackDelivery {
  status: number;
  /** Parsed JSON when the answer is JSON, else its text ('' for Bolt's empty ack). */
  body: unknown;
  /** Sends the very same request again (same bytes, same signature): what someone who captured it could do. */
  resend: () => Promise<SlackDelivery>;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * Slack's v0 request signature: hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the app's signing secret.
 * The content type is exactly `application/x-www-form-urlencoded`, without a charset, as Slack sends it: Bolt
 * compares the header verbatim and would otherwise JSON-parse the form body.
 */
export function signSlackRequest(signingSecret: string, rawBody: string, timestamp = nowSeconds()): SignedHeaders {
  const signature = createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex');
  return {
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': `v0=${signature}`,
    'content-type': 'application/x-www-form-urlencoded',
  };
}

/** POSTs a form body to an app's request URL the way Slack delivers commands and interactions. */
export async function postSignedForm(
  targetUrl: string,
  signingSecret: string,
  form: Record<string, string>,
  overrides: SigningOverrides = {},
): Promise<SlackDelivery> {
  const body = new URLSearchParams(form).toString();
  const headers = signSlackRequest(signingSecret, body, overrides.timestamp);
  if (overrides.signatureOverride !== undefined) headers['x-slack-signature'] = overrides.signatureOverride;
  const send = async (): Promise<SlackDelivery> => {
    const res = await fetch(targetUrl, {
      method: 'POST',
      headers: { ...headers, 'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)' },
      body,
    });
    const text = await res.text();
    const isJson = (res.headers.get('content-type') ?? '').startsWith('application/json');
    return withResend({ status: res.status, body: isJson ? JSON.parse(text) : text }, send);
  };
  return send();
}

/** `resend` is not enumerable, so a delivery still compares equal to its status and body. */
function withResend(delivery: Omit<SlackDelivery, 'resend'>, send: () => Promise<SlackDelivery>): SlackDelivery {
  return Object.defineProperty(delivery, 'resend', { value: send, enumerable: false }) as SlackDelivery;
}
