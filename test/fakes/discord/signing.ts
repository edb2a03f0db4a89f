import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';

/** An application's interaction keypair; `publicKeyHex` is what the Developer Portal shows (32 raw bytes, hex). */
export interface DiscordKeys {
  publicKeyHex: string;
  privateKey: KeyObject;
}

export function generateDiscordKeys(): DiscordKeys {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return { publicKeyHex: spki.subarray(spki.length - 32).toString('hex'), privateKey };
}

/** Discord's request signature: hex Ed25519 over the timestamp (seconds, as text) followed by the raw body. */
export function signDiscordRequest(
  keys: Pick<DiscordKeys, 'privateKey'>,
  rawBody: string,
  timestamp = String(Math.floor(Date.now() / 1000)),
) {
  const signature = sign(null, Buffer.from(timestamp + rawBody, 'utf8'), keys.privateKey).toString('hex');
  return { 'x-signature-ed25519': signature, 'x-signature-timestamp': timestamp };
}

export interface SignedDeliveryOptions {
  timestamp?: string;
  /** Replaces the signature (e.g. one made with another key, or garbage). */
  signatureOverride?: string;
  /** Signs this body but sends the real one: a tampered request. */
  signedBody?: string;
}

export interface InteractionDelivery {
  status: number;
  /** Parsed JSON when the answer is JSON, else its text. */
  body: unknown;
  /** Sends the very same request again (same bytes, same signature): what someone who captured it could do. */
  resend: () => Promise<InteractionDelivery>;
}

/** POSTs an interaction to an app's interactions endpoint exactly as Discord does. */
export async function postSignedInteraction(
  url: string,
  keys: Pick<DiscordKeys, 'privateKey'>,
  payload: Record<string, unknown>,
  options: SignedDeliveryOptions = {},
): Promise<InteractionDelivery> {
  const body = JSON.stringify(payload);
  const headers = signDiscordRequest(keys, options.signedBody ?? body, options.timestamp);
  if (options.signatureOverride !== undefined) headers['x-signature-ed25519'] = options.signatureOverride;
  const send = async (): Promise<InteractionDelivery> => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'user-agent': 'Discord-Interactions/1.0 (+https://discord.com)' },
      body,
    });
    const text = await res.text();
    const isJson = (res.headers.get('content-type') ?? '').startsWith('application/json');
    return withResend({ status: res.status, body: isJson && text ? JSON.parse(text) : text }, send);
  };
  return send();
}

/** `resend` is not enumerable, so a delivery still compares equal to its status and body. */
function withResend(delivery: Omit<InteractionDelivery, 'resend'>, send: () => Promise<InteractionDelivery>): InteractionDelivery {
  return Object.defineProperty(delivery, 'resend', { value: send, enumerable: false }) as InteractionDelivery;
}
