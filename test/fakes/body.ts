import type { IncomingMessage } from 'node:http';

/** More than any call xmsg makes (Slack's blocks and Discord's embeds are capped far below); a fake never holds more. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** A body over the cap: the fakes answer 413, as Slack and Discord do. */
export class BodyTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`request body larger than ${maxBytes} bytes`);
  }
}

/**
 * The whole request body, at most `maxBytes` of it. An oversized body is read to its end but not kept, then
 * refused with BodyTooLarge: the connection stays usable for the 413 answer.
 */
export async function readBody(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<Buffer<ArrayBuffer>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= maxBytes) chunks.push(chunk);
  }
  if (size > maxBytes) throw new BodyTooLarge(maxBytes);
  return Buffer.concat(chunks);
}
