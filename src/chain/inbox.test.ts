import { concat, encodeAbiParameters, type Hex, keccak256, pad, parseAbiParameters, toHex } from 'viem';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_INBOX_ADDRESS,
  decodeExecutingLog,
  EXECUTING_MESSAGE_TOPIC,
  type Identifier,
  messagePayloadHash,
  type RawLog,
} from './inbox.js';

const identifier: Identifier = {
  origin: '0x00000000000000000000000000000000000E4170',
  blockNumber: 5n,
  logIndex: 1n,
  timestamp: 1_700_000_000n,
  chainId: 901n,
};
const data = encodeAbiParameters(parseAbiParameters('(address, uint256, uint256, uint256, uint256)'), [
  [identifier.origin, identifier.blockNumber, identifier.logIndex, identifier.timestamp, identifier.chainId],
]);
const msgHash = keccak256(toHex('payload'));
const log: RawLog = { address: DEFAULT_INBOX_ADDRESS, topics: [EXECUTING_MESSAGE_TOPIC, msgHash], data };

const refusal = (raw: Partial<RawLog>) => {
  const r = decodeExecutingLog({ ...log, ...raw });
  if (r.ok) throw new Error('expected the log to be refused');
  return r.reason;
};

describe('decodeExecutingLog', () => {
  it('is the event the inbox emits', () => {
    expect(EXECUTING_MESSAGE_TOPIC).toBe(keccak256(toHex('ExecutingMessage(bytes32,(address,uint256,uint256,uint256,uint256))')));
  });

  it('reads the msgHash from topic 1 and the identifier from the data, origin checksummed', () => {
    expect(decodeExecutingLog(log)).toEqual({ ok: true, msgHash, identifier });
    const lower = decodeExecutingLog({ ...log, data: data.toLowerCase() as Hex });
    expect(lower.ok && lower.identifier.origin).toBe('0x00000000000000000000000000000000000E4170');
  });

  it('accepts topic0 in any hex case', () => {
    expect(decodeExecutingLog({ ...log, topics: [`0x${EXECUTING_MESSAGE_TOPIC.slice(2).toUpperCase()}`, msgHash] }).ok).toBe(true);
  });

  it('refuses a log without exactly two topics', () => {
    expect(refusal({ topics: [EXECUTING_MESSAGE_TOPIC] })).toBe('expected 2 topics, got 1');
    expect(refusal({ topics: [EXECUTING_MESSAGE_TOPIC, msgHash, pad('0x01')] })).toBe('expected 2 topics, got 3');
    expect(refusal({ topics: [] })).toBe('expected 2 topics, got 0');
  });

  it('refuses another event', () => {
    expect(refusal({ topics: [keccak256(toHex('Ping(uint256,bytes)')), msgHash] })).toBe('topic0 is not ExecutingMessage');
  });

  it('refuses data that is not exactly one 160-byte Identifier', () => {
    expect(refusal({ data: concat([data, pad('0x00')]) })).toBe('expected 160 data bytes, got 192');
    expect(refusal({ data: data.slice(0, -64) as Hex })).toBe('expected 160 data bytes, got 128');
    expect(refusal({ data: `${data}00` })).toBe('expected 160 data bytes, got 161');
    expect(refusal({ data: '0x' })).toBe('expected 160 data bytes, got 0');
    // An odd number of hex digits is not a whole number of bytes.
    expect(refusal({ data: data.slice(0, -1) as Hex })).toBe('expected 160 data bytes, got 159.5');
  });

  it('refuses data of the right length that is not hex, with the first line of the decoder error', () => {
    const reason = refusal({ data: `0x${'zz'.repeat(160)}` });
    expect(reason).toMatch(/^undecodable identifier: /);
    expect(reason).not.toContain('\n');
  });
});

describe('messagePayloadHash', () => {
  it('is the keccak256 of the topics followed by the data', () => {
    const topics = [keccak256(toHex('Ping(uint256,bytes)')), pad('0x2a')];
    expect(messagePayloadHash({ topics, data: toHex('hi') })).toBe(keccak256(concat([...topics, toHex('hi')])));
  });
});
