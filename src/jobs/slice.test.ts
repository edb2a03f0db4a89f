import { describe, expect, it } from 'vitest';
import type { AccessListCheck } from '../chain/access-list.js';
import { messageId } from '../store/keys.js';
import type { MessageData } from '../store/record.js';
import { sliceBlockOf, sliceMessage, unpackSlice } from './slice.js';

const BLOCK_HASH = `0x${'Ab'.repeat(32)}` as const;

function message(logIndex: number): MessageData {
  return {
    id: messageId(902, BLOCK_HASH, logIndex),
    chainId: 902,
    blockNumber: '77',
    blockHash: BLOCK_HASH,
    blockTimestamp: '1764500000',
    txHash: `0x${String(logIndex).padStart(64, '0')}`,
    logIndex,
    msgHash: `0x${String(logIndex + 1).padStart(64, '9')}`,
    identifier: {
      origin: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
      blockNumber: '12',
      logIndex: String(logIndex),
      timestamp: '1764499000',
      chainId: '901',
    },
    seenAt: 1764500001234,
  };
}

describe('slice payloads', () => {
  it('gives back each message whole, in order, with its access-list verdict, after a trip through JSON', () => {
    const declared: AccessListCheck = { verdict: 'declared', reason: '' };
    const mismatched: AccessListCheck = { verdict: 'mismatched', reason: 'checksum entry differs' };
    const messages = [message(0), message(1), message(5)];
    const verdicts = [declared, mismatched, declared];
    const packed = { block: sliceBlockOf(messages[0]!), messages: messages.map((m, i) => sliceMessage(m, verdicts[i]!)) };
    const unpacked = unpackSlice(JSON.parse(JSON.stringify(packed)));
    expect(unpacked).toEqual(messages.map((m, i) => ({ ...m, accessList: verdicts[i] })));
  });

  it('is well under half the JSON of whole messages', () => {
    const messages = Array.from({ length: 500 }, (_, i) => message(i));
    const declared: AccessListCheck = { verdict: 'declared', reason: '' };
    const packed = { block: sliceBlockOf(messages[0]!), messages: messages.map((m) => sliceMessage(m, declared)) };
    const whole = { messages: messages.map((m) => ({ ...m, accessList: declared })) };
    expect(JSON.stringify(packed).length).toBeLessThan(JSON.stringify(whole).length / 2);
  });

  it('reads a slice queued before packing as it is', () => {
    const legacy = {
      messages: [{ ...message(3), accessList: { verdict: 'missing', reason: 'no entries' } as AccessListCheck }, message(4)],
    };
    expect(unpackSlice(legacy)).toEqual(legacy.messages);
  });
});
