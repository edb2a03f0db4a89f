import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BaseError, pad, ResponseBodyTooLargeError } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainRpc, LogRangeRefused, probeChainId, RpcFailure, refusesRange, WrongChain } from './rpc.js';

/** How the loopback node answers the next requests: an HTTP status and body, or no answer at all. */
type Answer = { status: number; body: unknown } | 'hang';
let answers: Answer[] = [];
let requests = 0;
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      requests++;
      const answer = answers.shift() ?? { status: 500, body: 'no answer scripted' };
      if (answer === 'hang') return;
      // A batch of one (the batched clients send those) gets its one answer in an array.
      const parsed = JSON.parse(raw) as { id: number } | { id: number }[];
      const reply = (id: number) => ({ jsonrpc: '2.0', id, ...(answer.body as object) });
      const body =
        typeof answer.body === 'string'
          ? answer.body
          : JSON.stringify(Array.isArray(parsed) ? parsed.map((c) => reply(c.id)) : reply(parsed.id));
      res.writeHead(answer.status, { 'content-type': typeof answer.body === 'string' ? 'text/plain' : 'application/json' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const INBOX = '0x4200000000000000000000000000000000000022';
const rpcWith = (retries: number, rpcUrl = url) => new ChainRpc(901, rpcUrl, { retries, retryDelayMs: 1, timeoutMs: 300 });

/** What logsInRange does with one scripted answer: the logs, or the error it throws. */
async function logsAfter(...scripted: Answer[]) {
  answers = scripted;
  requests = 0;
  const outcome = await rpcWith(scripted.length - 1)
    .logsInRange(INBOX, [pad('0x01')], 5n, 9n)
    .catch((err: unknown) => err as Error);
  return { outcome, requests };
}

const rpcError = (code: number, message: string) => ({ status: 200, body: { error: { code, message } } });

describe('which eth_getLogs failures a smaller range could help with', () => {
  it.each([
    ['a result cap (-32005)', rpcError(-32005, 'query returned more than 10000 results')],
    ['a range cap as invalid params (-32602)', rpcError(-32602, 'block range is too wide')],
    ['a generic server error (-32000)', rpcError(-32000, 'exceed maximum block range: 5000')],
    // Codes viem maps to no RpcError class arrive as a bare RpcRequestError.
    ["QuickNode's range cap (-32614)", rpcError(-32614, 'eth_getLogs is limited to a 10,000 range')],
    [
      "QuickNode's range cap with HTTP 413",
      { status: 413, body: { error: { code: -32614, message: 'eth_getLogs is limited to a 10,000 range' } } },
    ],
    ["BlockPI's free tier cap (35)", rpcError(35, 'ranges over 10000 blocks are not supported on freetier')],
    ["Alchemy's range cap (-32600)", rpcError(-32600, 'You can make eth_getLogs requests with up to a 500 block range.')],
    ["reth's result cap (-32602)", rpcError(-32602, 'query exceeds max results 20000, retry with the range 25766988-25775072')],
    ['HTTP 413 from a proxy', { status: 413, body: 'Request Entity Too Large' }],
    ['HTTP 504 from a proxy', { status: 504, body: 'Gateway Timeout' }],
    ['no answer within the timeout', 'hang' as const],
  ])('refuses the range at once on %s', async (_, answer) => {
    const { outcome, requests } = await logsAfter(answer, answer, answer);
    expect(outcome).toBeInstanceOf(LogRangeRefused);
    expect((outcome as Error).message).toMatch(/^eth_getLogs 5\.\.9: /);
    expect((outcome as Error).message).not.toContain('\n');
    // Asked once: the same range again would be refused again.
    expect(requests).toBe(1);
  });

  it.each([
    ['HTTP 503', { status: 503, body: 'Service Unavailable' }],
    ['HTTP 500', { status: 500, body: 'Internal Server Error' }],
    ['HTTP 429', { status: 429, body: 'Too Many Requests' }],
    [
      'HTTP 429 with a JSON-RPC error',
      { status: 429, body: { error: { code: 429, message: 'Your app has exceeded its compute units per second capacity' } } },
    ],
    ['HTTP 503 with a JSON-RPC error', { status: 503, body: { error: { code: -32603, message: 'upstream unavailable' } } }],
    ["Infura's rate limit (-32005)", rpcError(-32005, 'project ID request rate exceeded')],
    ['a method the node does not serve (-32601)', rpcError(-32601, 'the method eth_getLogs does not exist/is not available')],
  ])('retries %s and then fails without blaming the range', async (_, answer) => {
    const { outcome, requests } = await logsAfter(answer, answer, answer);
    expect(outcome).toBeInstanceOf(Error);
    expect(outcome).not.toBeInstanceOf(LogRangeRefused);
    expect(requests).toBe(3);
  });

  it('does not blame the range when the node is not there', async () => {
    const outcome = await rpcWith(0, 'http://127.0.0.1:9')
      .logsInRange(INBOX, [pad('0x01')], 5n, 9n)
      .catch((err: unknown) => err);
    expect(outcome).toBeInstanceOf(Error);
    expect(outcome).not.toBeInstanceOf(LogRangeRefused);
  });

  it('gives the logs of a retried range once the node answers, without removed ones', async () => {
    const log = {
      address: INBOX,
      topics: [pad('0x01')],
      data: '0x',
      blockNumber: '0x6',
      blockHash: pad('0xb6'),
      logIndex: '0x2',
      transactionHash: pad('0x76'),
    };
    const { outcome, requests } = await logsAfter(
      { status: 503, body: 'Service Unavailable' },
      { status: 200, body: { result: [log, { ...log, logIndex: '0x3', removed: true }] } },
    );
    expect(outcome).toEqual([{ ...log, blockNumber: 6n, logIndex: 2n }]);
    expect(requests).toBe(2);
  });

  it('counts an answer too large to read as a refusal, and nothing that is not a viem error', () => {
    expect(refusesRange(new ResponseBodyTooLargeError({ maxSize: 10, size: 11 }))).toBe(true);
    expect(refusesRange(new BaseError('wrapped', { cause: new ResponseBodyTooLargeError({ maxSize: 10, size: 11 }) }))).toBe(true);
    expect(refusesRange(new Error('query returned more than 10000 results'))).toBe(false);
    expect(refusesRange('timeout')).toBe(false);
  });
});

describe('reading access lists', () => {
  const tx = (hash: string, accessList?: unknown) => ({
    hash: pad(hash as `0x${string}`),
    blockHash: pad('0xb6'),
    ...(accessList === undefined ? {} : { accessList }),
  });
  const blockTransactions = async (result: unknown) => {
    answers = [{ status: 200, body: { result } }];
    return rpcWith(0)
      .blockTransactions(pad('0xb6'))
      .catch((err: unknown) => err as Error);
  };

  it("gives a block's transactions with their access lists, undefined for a type without one", async () => {
    const item = { address: INBOX, storageKeys: [pad('0x01')] };
    expect(await blockTransactions({ hash: pad('0xb6'), transactions: [tx('0x71', [item]), tx('0x72')] })).toEqual([
      { hash: pad('0x71'), blockHash: pad('0xb6'), accessList: [item] },
      { hash: pad('0x72'), blockHash: pad('0xb6'), accessList: undefined },
    ]);
    expect(await blockTransactions(null)).toBeUndefined();
  });

  it.each([
    ['no transactions list', { hash: pad('0xb6') }, /eth_getBlockByHash\(0x0+b6, true\): the answer has no transactions list/],
    [
      'transaction hashes only',
      { transactions: [pad('0x71')] },
      /transaction 0: a transaction hash, not the transaction with its access list/,
    ],
    ['an access list that is not a list', { transactions: [tx('0x71', 'nope')] }, /transaction 0: accessList is not a list/],
    [
      'an item without storage keys',
      { transactions: [tx('0x71'), tx('0x72', [{ address: INBOX }])] },
      /transaction 1: access list item 0 is not an address with a list of storage keys/,
    ],
    ['a storage key that is not a string', { transactions: [tx('0x71', [{ address: INBOX, storageKeys: [1] }])] }, /access list item 0/],
  ])('refuses a block answer with %s, naming what is wrong', async (_, result, message) => {
    const outcome = await blockTransactions(result);
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toMatch(message);
  });

  it('gives one mined transaction, and undefined for an unknown or pending one', async () => {
    answers = [
      { status: 200, body: { result: tx('0x71', []) } },
      { status: 200, body: { result: null } },
      { status: 200, body: { result: { ...tx('0x73'), blockHash: null } } },
    ];
    const rpc = rpcWith(0);
    expect(await rpc.transactionAccess(pad('0x71'))).toEqual({ hash: pad('0x71'), blockHash: pad('0xb6'), accessList: [] });
    expect(await rpc.transactionAccess(pad('0x72'))).toBeUndefined();
    expect(await rpc.transactionAccess(pad('0x73'))).toBeUndefined();
  });
});

describe('what an RPC failure tells', () => {
  const SECRET = 'SECRETKEY123';
  const keyed = () => `${url}/v3/${SECRET}?apikey=${SECRET}`;
  const failureOf = async (answer: Answer, call: (rpc: ChainRpc) => Promise<unknown>): Promise<Error> => {
    answers = [answer];
    return call(rpcWith(0, keyed())).then(
      () => new Error('no failure'),
      (err: unknown) => err as Error,
    );
  };

  it.each([
    [
      'HTTP 503',
      { status: 503, body: 'Service Unavailable' },
      /^eth_getBlockByNumber on http:\/\/127\.0\.0\.1:\d+: HTTP 503: Service Unavailable$/,
    ],
    ['a JSON-RPC error', rpcError(-32000, 'header not found'), /: JSON-RPC error -32000: header not found$/],
    [
      'a node answering with the URL in its text',
      { status: 502, body: `bad gateway for ${'https://node.example/v3/'}${SECRET}` },
      /HTTP 502: bad gateway for https:\/\/node\.example$/,
    ],
    ['no answer within the timeout', 'hang' as const, /: no answer within the timeout$/],
  ])('names the method, the host and what went wrong on %s, never the key in the URL', async (_, answer, message) => {
    const err = await failureOf(answer, (rpc) => rpc.header('latest'));
    expect(err).toBeInstanceOf(RpcFailure);
    expect(err.message).toMatch(message);
    // Nothing of viem's error is kept: not its text (URL, request body), not as a cause.
    const everything = `${err.message}\n${err.stack}\n${JSON.stringify(err)}\n${String(err.cause)}`;
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain('Request body');
  });

  it('says why a node that is not there did not answer, without the key', async () => {
    // A port nothing listens on any more.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const err = (await rpcWith(0, `http://127.0.0.1:${port}/v3/${SECRET}`)
      .header('latest')
      .catch((e: unknown) => e)) as Error;
    expect(err.message).toBe(`eth_getBlockByNumber on http://127.0.0.1:${port}: no answer: fetch failed (ECONNREFUSED)`);
    expect(String(err.stack)).not.toContain(SECRET);
  });

  it('refuses a range without the key, and the first probe of a chain id too', async () => {
    const refused = await failureOf(rpcError(-32614, 'eth_getLogs is limited to a 10,000 range'), (rpc) =>
      rpc.logsInRange(INBOX, [pad('0x01')], 5n, 9n),
    );
    expect(refused).toBeInstanceOf(LogRangeRefused);
    expect(refused.message).toMatch(/^eth_getLogs 5\.\.9: eth_getLogs on http:\/\/127\.0\.0\.1:\d+: JSON-RPC error -32614: /);
    answers = [{ status: 401, body: 'invalid project id' }];
    const probed = (await probeChainId(keyed(), 300).catch((e: unknown) => e)) as Error;
    expect(probed.message).toMatch(/^eth_chainId on http:\/\/127\.0\.0\.1:\d+: HTTP 401: invalid project id$/);
    expect(`${JSON.stringify(refused)}${refused.stack}${probed.stack}`).not.toContain(SECRET);
  });
});

describe('a chain declared with its id', () => {
  const declared = () => new ChainRpc(901, url, { retries: 0, retryDelayMs: 1, timeoutMs: 300 }, undefined, { confirmChainId: true });
  const header = { number: '0x5', hash: pad('0xb5'), parentHash: pad('0xb4'), timestamp: '0x1' };

  it('asks the node its chain id before anything else, and uses nothing of a node of another chain', async () => {
    const rpc = declared();
    answers = [{ status: 200, body: { result: '0x386' } }];
    requests = 0;
    const wrong = (await rpc.header('latest').catch((e: unknown) => e)) as Error;
    expect(wrong).toBeInstanceOf(WrongChain);
    expect(wrong.message).toMatch(/^http:\/\/127\.0\.0\.1:\d+ answers eth_chainId 902, not chain 901$/);
    expect(requests).toBe(1);

    // The node comes back as the right chain: asked once more, then the call goes through.
    answers = [
      { status: 200, body: { result: '0x385' } },
      { status: 200, body: { result: header } },
    ];
    expect((await rpc.header('latest'))?.number).toBe(5n);
    answers = [{ status: 200, body: { result: header } }];
    requests = 0;
    expect((await rpc.header('latest'))?.number).toBe(5n);
    expect(requests).toBe(1);

    // Asked again later (the follower does, each step), another chain's answer stops every call again.
    answers = [{ status: 200, body: { result: '0x386' } }];
    await expect(rpc.checkChainId()).rejects.toBeInstanceOf(WrongChain);
    answers = [{ status: 200, body: { result: '0x386' } }];
    await expect(rpc.header('latest')).rejects.toBeInstanceOf(WrongChain);
  });

  it('fails a call while the node does not answer, as any RPC failure', async () => {
    answers = [{ status: 503, body: 'Service Unavailable' }];
    await expect(declared().header('latest')).rejects.toThrow(/^eth_chainId on http:\/\/127\.0\.0\.1:\d+: HTTP 503/);
  });
});
