import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { firstLine, safeLogging, safeUrl, scrubSecrets } from './errors.js';

describe('firstLine', () => {
  it("keeps an error message's first line", () => {
    expect(firstLine(new Error('HTTP request failed.\n\nURL: http://node\nRequest body: {}'))).toBe('HTTP request failed.');
  });

  it('prints anything else thrown', () => {
    expect(firstLine('plain string')).toBe('plain string');
    expect(firstLine(42)).toBe('42');
  });
});

describe('safeUrl and scrubSecrets', () => {
  it('keeps scheme, host and port of a URL, nothing of its credentials, path or query', () => {
    expect(safeUrl('https://mainnet.infura.io/v3/SECRETKEY123')).toBe('https://mainnet.infura.io');
    expect(safeUrl('https://user:pass@node.example:8545/SECRETKEY123/?apikey=SECRETKEY123#x')).toBe('https://node.example:8545');
    expect(safeUrl('redis://:SECRETKEY123@redis:6379/2')).toBe('redis://redis:6379');
    expect(safeUrl('not a url SECRETKEY123')).toBe('(not a URL)');
  });

  it('cuts every URL in a text and masks Discord tokens in paths', () => {
    expect(scrubSecrets('HTTP request failed.\nURL: https://node.example/v3/SECRETKEY123?k=SECRETKEY123.\nDetails: x')).toBe(
      'HTTP request failed.\nURL: https://node.example.\nDetails: x',
    );
    expect(scrubSecrets('POST /api/v10/webhooks/123456/SECRETKEY123/messages/@original')).toBe(
      'POST /api/v10/webhooks/123456/***/messages/@original',
    );
    expect(scrubSecrets('/interactions/987/SECRETKEY123/callback')).toBe('/interactions/987/***/callback');
  });
});

describe('safeLogging', () => {
  /** One logger writing its lines into an array. */
  const capture = () => {
    const lines: string[] = [];
    const log = pino({ ...safeLogging, level: 'info' }, { write: (line: string) => lines.push(line) });
    return { log, text: () => lines.join('') };
  };

  it('never writes a token, a secret or an authorization header, and cuts URLs in known fields', () => {
    const { log, text } = capture();
    log.info({ token: 'SECRETKEY123', slack: { signingSecret: 'SECRETKEY123' }, headers: { authorization: 'Bot SECRETKEY123' } }, 'x');
    log.info({ url: 'https://discord.com/api/v10/webhooks/1/SECRETKEY123', rpcUrl: 'https://n.example/v3/SECRETKEY123' }, 'y');
    log.error({ url: '/slack/events?token=SECRETKEY123' }, 'a request path');
    expect(text()).not.toContain('SECRETKEY123');
    expect(text()).toContain('"url":"https://discord.com"');
    expect(text()).toContain('"rpcUrl":"https://n.example"');
    expect(text()).toContain('"url":"/slack/events"');
  });

  it('scrubs URLs out of messages, free fields and errors, with their causes and properties', () => {
    const { log, text } = capture();
    const cause = new Error('URL: https://node.example/v3/SECRETKEY123');
    const err = Object.assign(new Error('failed at https://node.example/v3/SECRETKEY123', { cause }), {
      url: 'https://discord.com/api/webhooks/1/SECRETKEY123',
      requestBody: { json: { token: 'SECRETKEY123' } },
      nested: { where: 'https://node.example/?apikey=SECRETKEY123' },
    });
    log.warn({ err, reason: 'RPC failing: https://node.example/v3/SECRETKEY123' }, 'at https://node.example/v3/SECRETKEY123');
    expect(text()).not.toContain('SECRETKEY123');
    expect(text()).toContain('failed at https://node.example');
  });
});
