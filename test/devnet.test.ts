import { type Abi, type Address, concat, createPublicClient, type Hex, http, keccak256, toEventSelector } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileContracts } from '../scripts/compile-contracts.js';
import { accessListFor, messageChecksum, messageEntries } from '../src/chain/access-list.js';
import { decodeExecutingLog, EXECUTING_MESSAGE_TOPIC } from '../src/chain/inbox.js';
import artifacts from '../src/devnet/artifacts.json' with { type: 'json' };
import {
  crossL2InboxAbi,
  type DevChain,
  type Devnet,
  emitInitiating,
  emitInitiatingMany,
  emitRawFromInbox,
  emitterAbi,
  executeMessage,
  executeMessages,
  faultyInboxAbi,
  latestBlock,
  messageBatcherAbi,
  mine,
  replaceBlocksFrom,
  revert,
  setAutomine,
  setSafe,
  snapshot,
  startDevnet,
} from '../src/devnet/devnet.js';

/** One raw JSON-RPC exchange, so the tests see HTTP statuses and connection errors as they are. */
async function rpc(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
}

async function blockNumberOfLabel(url: string, label: 'safe' | 'finalized'): Promise<bigint> {
  const { json } = await rpc(url, { jsonrpc: '2.0', id: 1, method: 'eth_getBlockByNumber', params: [label, false] });
  return BigInt((json as { result: { number: Hex } }).result.number);
}

describe('devnet', () => {
  let devnet: Devnet;
  let a: DevChain;
  let b: DevChain;

  beforeAll(async () => {
    devnet = await startDevnet({ chainIds: [901, 902] });
    a = devnet.chain(901);
    b = devnet.chain(902);
  });

  afterAll(async () => {
    await devnet?.stop();
    for (const c of devnet?.chains ?? []) expect(c.node.process.exitCode ?? c.node.process.signalCode).not.toBeNull();
  });

  it('checks in artifacts that match a fresh compile of the sources, and ABIs that match the artifacts', () => {
    expect(compileContracts()).toEqual(artifacts);
    // solc spells out internalType, anonymous, `indexed: false` and unnamed outputs' `name: ""`; viem's parseAbi does
    // not. The rest must agree.
    const solcOnly = (key: string, value: unknown) =>
      key === 'internalType' || key === 'anonymous' || (key === 'indexed' && value === false) || (key === 'name' && value === '');
    const shape = (abi: Abi) =>
      JSON.parse(JSON.stringify(abi, (key, value: unknown) => (solcOnly(key, value) ? undefined : value))).sort(
        (x: { name: string }, y: { name: string }) => x.name.localeCompare(y.name),
      );
    expect(shape(crossL2InboxAbi)).toEqual(shape(artifacts.CrossL2Inbox.abi as Abi));
    expect(shape(faultyInboxAbi)).toEqual(shape(artifacts.DevInbox.abi as Abi));
    expect(shape(messageBatcherAbi)).toEqual(shape(artifacts.MessageBatcher.abi as Abi));
    expect(shape(emitterAbi)).toEqual(shape(artifacts.Emitter.abi as Abi));
  });

  it("runs the real inbox rule: a transaction that does not declare the message's checksum cannot execute it", async () => {
    const init = await emitInitiating(a);
    const other = await emitInitiating(a);
    const own = accessListFor(b.inbox, [init]);
    const elsewhere: Address = '0x00000000000000000000000000000000000000aa';
    const undeclaring = {
      'no access list': [],
      "another message's entries": accessListFor(b.inbox, [other]),
      'its entries under another address': [{ address: elsewhere, storageKeys: own[0]!.storageKeys }],
      'the lookup entry without the checksum': [{ address: b.inbox, storageKeys: own[0]!.storageKeys.slice(0, 1) }],
    };
    for (const [what, accessList] of Object.entries(undeclaring)) {
      await expect(executeMessage(b, init.identifier, init.msgHash, { accessList }), what).rejects.toThrow(/reverted/);
    }
    // The inbox only asks for the checksum ("the presence of other needed entries is enforced during pre-validation").
    const checksumOnly = [{ address: b.inbox, storageKeys: [messageChecksum(init.identifier, init.msgHash)] }];
    expect((await executeMessage(b, init.identifier, init.msgHash, { accessList: checksumOnly })).msgHash).toBe(init.msgHash);
    // The contract's checksum is src/chain/access-list.ts's.
    const onChain = await b.client.readContract({
      address: b.inbox,
      abi: crossL2InboxAbi,
      functionName: 'calculateChecksum',
      args: [init.identifier, init.msgHash],
    });
    expect(onChain).toBe(messageEntries(init.identifier, init.msgHash).at(-1));
  });

  it('forges undeclared logs through the faulty inbox, and puts the real rule back after', async () => {
    const init = await emitInitiating(a);
    const forged = await executeMessage(b, init.identifier, init.msgHash, { accessList: [], forged: true });
    expect(forged).toMatchObject({ msgHash: init.msgHash, identifier: init.identifier });
    const tx = await b.client.getTransaction({ hash: forged.txHash });
    expect(tx.accessList).toEqual([]);
    expect(await b.client.getCode({ address: b.inbox })).toBe(artifacts.CrossL2Inbox.deployedBytecode);
    await expect(executeMessage(b, init.identifier, init.msgHash, { accessList: [] })).rejects.toThrow(/reverted/);
  });

  it('starts chains with distinct chain ids, reachable through their proxies', async () => {
    const ids = await Promise.all(devnet.chains.map((c) => createPublicClient({ transport: http(c.rpcUrl) }).getChainId()));
    expect(ids).toEqual([901, 902]);
    expect(a.rpcUrl).not.toBe(a.anvilUrl);
  });

  it('round-trips an initiating log through an executing message', async () => {
    const init = await emitInitiating(a, { data: '0xdeadbeef' });
    const viaProxy = createPublicClient({ transport: http(a.rpcUrl) });
    const [onChain] = await viaProxy.getLogs({ address: a.emitter, blockHash: init.blockHash });
    expect(onChain).toBeDefined();
    expect(BigInt(onChain!.logIndex)).toBe(init.logIndex);
    expect(init.msgHash).toBe(keccak256(concat([...onChain!.topics, onChain!.data])));
    const block = await viaProxy.getBlock({ blockHash: init.blockHash });
    expect(init.identifier).toEqual({
      origin: a.emitter,
      blockNumber: block.number,
      logIndex: init.logIndex,
      timestamp: block.timestamp,
      chainId: 901n,
    });

    const exec = await executeMessage(b, init.identifier, init.msgHash);
    const logs = await createPublicClient({ transport: http(b.rpcUrl) }).getLogs({ address: b.inbox, blockHash: exec.blockHash });
    expect(logs).toHaveLength(1);
    expect(logs[0]!.topics).toEqual([EXECUTING_MESSAGE_TOPIC, init.msgHash]);
    expect(decodeExecutingLog(logs[0]!)).toEqual({ ok: true, msgHash: init.msgHash, identifier: init.identifier });
    expect(exec).toMatchObject({ chainId: 902n, msgHash: init.msgHash, identifier: init.identifier, logIndex: 0n });
  });

  it('lands 300 executing messages in one block', async () => {
    const inits = await emitInitiatingMany(a, 300, '0x01');
    expect(new Set(inits.map((i) => i.msgHash)).size).toBe(300);
    const execs = await executeMessages(
      b,
      inits.map((i) => ({ identifier: i.identifier, msgHash: i.msgHash })),
    );
    expect(execs).toHaveLength(300);
    const logs = await b.client.getLogs({ address: b.inbox, blockHash: execs[0]!.blockHash });
    expect(logs).toHaveLength(300);
    expect(execs.map((e) => e.logIndex)).toEqual(logs.map((l) => BigInt(l.logIndex)));
    expect(execs[299]!.identifier).toEqual(inits[299]!.identifier);
  });

  it('mines transactions sent with automine off into one block, in call order', async () => {
    await setAutomine(a, false);
    const pending = Promise.all([emitInitiating(a), emitInitiating(a), emitRawFromInbox(a, [], '0x')]);
    await mine(a);
    const [first, second, raw] = await pending;
    await setAutomine(a, true);
    expect(second.blockHash).toBe(first.blockHash);
    expect(raw.blockHash).toBe(first.blockHash);
    expect([first.logIndex, second.logIndex, raw.logs[0]!.logIndex]).toEqual([0n, 1n, 2n]);
  });

  it('emits malformed logs from the inbox address', async () => {
    const topics: Hex[] = [EXECUTING_MESSAGE_TOPIC, keccak256('0x01'), keccak256('0x02'), keccak256('0x03')];
    const raw = await emitRawFromInbox(b, topics, '0xabcdef');
    expect(raw.logs).toEqual([{ address: b.inbox, logIndex: 0n, topics, data: '0xabcdef' }]);
    expect(decodeExecutingLog(raw.logs[0]!).ok).toBe(false);
    await expect(emitRawFromInbox(b, [...topics, topics[0]!], '0x')).rejects.toThrow();
    expect(toEventSelector('Ping(uint256,bytes)')).toBe((await emitInitiating(b)).topics[0]);
  });

  it('overrides the safe label through the proxy, and hands it back to anvil with null', async () => {
    await mine(a, 3);
    const anvilSafe = await blockNumberOfLabel(a.anvilUrl, 'safe');
    await setSafe(a, 2n);
    expect(await blockNumberOfLabel(a.rpcUrl, 'safe')).toBe(2n);
    expect(await blockNumberOfLabel(a.anvilUrl, 'safe')).toBe(anvilSafe);
    const logs = await rpc(a.rpcUrl, {
      jsonrpc: '2.0',
      id: 1,
      method: 'eth_getLogs',
      params: [{ fromBlock: '0x1', toBlock: 'safe', address: a.emitter }],
    });
    const blocks = (logs.json as { result: { blockNumber: Hex }[] }).result.map((l) => BigInt(l.blockNumber));
    expect(blocks.length).toBeGreaterThan(0);
    expect(blocks.every((n) => n <= 2n)).toBe(true);
    await setSafe(a, null);
    expect(await blockNumberOfLabel(a.rpcUrl, 'safe')).toBe(anvilSafe);
  });

  it('counts JSON-RPC calls and HTTP requests', async () => {
    b.proxy.resetCounts();
    await rpc(b.rpcUrl, [
      { jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] },
      { jsonrpc: '2.0', id: 2, method: 'eth_chainId', params: [] },
    ]);
    await rpc(b.rpcUrl, { jsonrpc: '2.0', id: 3, method: 'eth_blockNumber', params: [] });
    expect(b.proxy.counts()).toEqual({ eth_blockNumber: 2, eth_chainId: 1 });
    expect(b.proxy.httpRequests()).toBe(2);
    b.proxy.resetCounts();
    expect(b.proxy.counts()).toEqual({});
    expect(b.proxy.httpRequests()).toBe(0);
  });

  it('injects failures, reproducibly with a seed, and a dead node, then recovers', async () => {
    const call = { jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] };
    b.proxy.setFaults({ failRate: 1 });
    expect((await rpc(b.rpcUrl, call)).status).toBe(503);

    const pattern = async () => {
      b.proxy.setFaults({ failRate: 0.5, seed: 42 });
      const statuses: number[] = [];
      for (let i = 0; i < 16; i++) statuses.push((await rpc(b.rpcUrl, call)).status);
      return statuses;
    };
    const first = await pattern();
    expect(await pattern()).toEqual(first);
    expect(new Set(first)).toEqual(new Set([200, 503]));

    b.proxy.setFaults({ down: true });
    await expect(rpc(b.rpcUrl, call)).rejects.toThrow();

    b.proxy.setFaults({ stallRate: 1, stallMs: 300 });
    const started = Date.now();
    expect((await rpc(b.rpcUrl, call)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);

    b.proxy.setFaults({});
    expect(await createPublicClient({ transport: http(b.rpcUrl) }).getChainId()).toBe(902);
  });

  it('replaces the block after a snapshot with an empty block of the same timestamp and another hash', async () => {
    const id = await snapshot(a);
    const init = await emitInitiating(a);
    await emitInitiating(a);
    const replacement = await replaceBlocksFrom(a, id);
    expect(replacement.number).toBe(init.blockNumber);
    expect(replacement.hash).not.toBe(init.blockHash);
    expect(replacement.timestamp).toBe(init.timestamp);
    const head = await latestBlock(a);
    expect(head.hash).toBe(replacement.hash);
    expect(head.transactions).toHaveLength(0);
    await expect(revert(a, id)).rejects.toThrow(/already used/);
  });
});
