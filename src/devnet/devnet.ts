/**
 * The local devnet of tests, the demo and the benchmark: one anvil per chain with the real inbox rule
 * (contracts/CrossL2Inbox.sol), Emitter and MessageBatcher installed, each behind an RpcProxy that decides the
 * safe/finalized labels and injects faults. The executing helpers send the access list the inbox requires
 * (src/chain/access-list.ts); the forging ones swap the faulty inbox (contracts/DevInbox.sol) in for their
 * transactions.
 *
 * xmsg is pointed at DevChain.rpcUrl (the proxy); the helpers here talk to anvil directly, so the proxy's
 * counts are xmsg's own traffic.
 */
import {
  type AccessList,
  type Address,
  type Block,
  BlockNotFoundError,
  createTestClient,
  createWalletClient,
  defineChain,
  encodeFunctionData,
  getAddress,
  type Hash,
  type Hex,
  http,
  type Log,
  parseAbi,
  publicActions,
  type TransactionReceipt,
  TransactionReceiptNotFoundError,
  walletActions,
} from 'viem';
import { accessListFor } from '../chain/access-list.js';
import { DEFAULT_INBOX_ADDRESS, decodeExecutingLog, type Identifier, messagePayloadHash } from '../chain/inbox.js';
import { type AnvilNode, startAnvil } from './anvil.js';
import artifacts from './artifacts.json' with { type: 'json' };
import { type RpcProxy, startRpcProxy } from './rpc-proxy.js';

export const EMITTER_ADDRESS: Address = '0x00000000000000000000000000000000000E4170';
export const BATCHER_ADDRESS: Address = '0x0000000000000000000000000000000000Ba7c11';

// The contracts' ABIs as viem types them; test/devnet.test.ts checks them against the compiled artifacts.

/** The real inbox rule (contracts/CrossL2Inbox.sol), installed at the inbox address. */
export const crossL2InboxAbi = parseAbi([
  'struct Identifier { address origin; uint256 blockNumber; uint256 logIndex; uint256 timestamp; uint256 chainId; }',
  'event ExecutingMessage(bytes32 indexed msgHash, Identifier id)',
  'error NotInAccessList()',
  'error BlockNumberTooHigh()',
  'error TimestampTooHigh()',
  'error LogIndexTooHigh()',
  'function validateMessage(Identifier _id, bytes32 _msgHash)',
  'function calculateChecksum(Identifier _id, bytes32 _msgHash) pure returns (bytes32)',
]);

/** The faulty inbox (contracts/DevInbox.sol): emits whatever it is given, swapped in by the forging helpers. */
export const faultyInboxAbi = parseAbi([
  'struct Identifier { address origin; uint256 blockNumber; uint256 logIndex; uint256 timestamp; uint256 chainId; }',
  'event ExecutingMessage(bytes32 indexed msgHash, Identifier id)',
  'function validateMessage(Identifier _id, bytes32 _msgHash)',
  'function validateMessages(Identifier[] _ids, bytes32[] _msgHashes)',
  'function emitRaw(bytes32[] topics, bytes data)',
]);

const REAL_INBOX_CODE = artifacts.CrossL2Inbox.deployedBytecode as Hex;
const FAULTY_INBOX_CODE = artifacts.DevInbox.deployedBytecode as Hex;

/** Many messages in one transaction through the inbox (contracts/MessageBatcher.sol). */
export const messageBatcherAbi = parseAbi([
  'struct Identifier { address origin; uint256 blockNumber; uint256 logIndex; uint256 timestamp; uint256 chainId; }',
  'function validateMessages(Identifier[] _ids, bytes32[] _msgHashes)',
]);

export const emitterAbi = parseAbi([
  'event Ping(uint256 indexed n, bytes data)',
  'function ping(uint256 n, bytes data)',
  'function pingMany(uint256 start, uint256 count, bytes data)',
]);

// Far above any single test's needs, so that many large transactions sent with automine off fit one block.
const BLOCK_GAS_LIMIT = 1_000_000_000n;
// Explicit gas skips anvil's estimation (one EVM run per transaction, which benchmarks feel). Per-item costs
// are 3-6x what the contracts use (measured: ~4.1k per ExecutingMessage through the faulty inbox, ~6.4k through
// MessageBatcher and the real inbox, calldata included; ~2k per empty Ping), plus the access list's own cost.
const BASE_GAS = 100_000n;
const GAS_PER_EXECUTING_MESSAGE = 25_000n;
// EIP-2930: what a transaction pays for each address and each storage key of its access list.
const GAS_PER_ACCESS_LIST_ADDRESS = 2_400n;
const GAS_PER_ACCESS_LIST_KEY = 1_900n;
const GAS_PER_PING = 8_000n;
const GAS_PER_DATA_BYTE = 200n;
const RECEIPT_POLL_MS = 20;

function makeClient(chainId: number, anvilUrl: string, account: Address) {
  const chain = defineChain({
    id: chainId,
    name: `devnet-${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [anvilUrl] } },
  });
  return createTestClient({ mode: 'anvil', chain, account, transport: http(anvilUrl), pollingInterval: 50 })
    .extend(publicActions)
    .extend(walletActions);
}

export type DevClient = ReturnType<typeof makeClient>;

export interface DevChain {
  chainId: number;
  /** The proxy URL: what xmsg is pointed at. */
  rpcUrl: string;
  anvilUrl: string;
  proxy: RpcProxy;
  node: AnvilNode;
  /** Public, wallet and anvil test actions over anvilUrl, sending from `account`. */
  client: DevClient;
  /** anvil's first unlocked account. */
  account: Address;
  inbox: Address;
  emitter: Address;
  batcher: Address;
}

export interface Devnet {
  chains: DevChain[];
  chain(chainId: number): DevChain;
  stop(): Promise<void>;
}

export interface DevnetOptions {
  chainIds: number[];
  /** Seconds between blocks; by default every transaction is mined at once (automine). */
  blockTime?: number;
  /** Genesis timestamps (s) by chain id, e.g. days in the past so that a chain holds logs old enough to expire. */
  genesisTimestamps?: Partial<Record<number, bigint>>;
  /** More anvil arguments for every chain, e.g. the benchmark's `--hardfork cancun --prune-history 100`. */
  anvilArgs?: string[];
}

export async function startDevnet(options: DevnetOptions): Promise<Devnet> {
  if (new Set(options.chainIds).size !== options.chainIds.length) {
    throw new Error(`duplicate chain ids: ${options.chainIds.join(', ')}`);
  }
  const started = await Promise.allSettled(
    options.chainIds.map((chainId) =>
      startChain(chainId, options.blockTime, options.genesisTimestamps?.[chainId], options.anvilArgs ?? []),
    ),
  );
  const chains = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stop = async (): Promise<void> => {
    await Promise.all(chains.map(async (c) => Promise.all([c.proxy.stop(), c.node.stop()])));
  };
  const failure = started.find((r) => r.status === 'rejected');
  if (failure) {
    await stop();
    throw failure.reason;
  }
  return {
    chains,
    chain(chainId) {
      const found = chains.find((c) => c.chainId === chainId);
      if (!found) throw new Error(`no devnet chain ${chainId}`);
      return found;
    },
    stop,
  };
}

async function startChain(
  chainId: number,
  blockTime: number | undefined,
  genesisTimestamp: bigint | undefined,
  anvilArgs: string[],
): Promise<DevChain> {
  const extraArgs = ['--gas-limit', String(BLOCK_GAS_LIMIT), ...anvilArgs];
  if (genesisTimestamp !== undefined) extraArgs.push('--timestamp', String(genesisTimestamp));
  const node = await startAnvil({ chainId, blockTime, extraArgs });
  let proxy: RpcProxy | undefined;
  try {
    proxy = await startRpcProxy(node.rpcUrl);
    const [first] = await createWalletClient({ transport: http(node.rpcUrl) }).getAddresses();
    if (!first) throw new Error(`anvil for chain ${chainId} has no unlocked account`);
    const account = getAddress(first);
    const client = makeClient(chainId, node.rpcUrl, account);
    await client.setCode({ address: DEFAULT_INBOX_ADDRESS, bytecode: REAL_INBOX_CODE });
    await client.setCode({ address: EMITTER_ADDRESS, bytecode: artifacts.Emitter.deployedBytecode as Hex });
    await client.setCode({ address: BATCHER_ADDRESS, bytecode: artifacts.MessageBatcher.deployedBytecode as Hex });
    return {
      chainId,
      rpcUrl: proxy.url,
      anvilUrl: node.rpcUrl,
      proxy,
      node,
      client,
      account,
      inbox: DEFAULT_INBOX_ADDRESS,
      emitter: EMITTER_ADDRESS,
      batcher: BATCHER_ADDRESS,
    };
  } catch (err) {
    await Promise.all([proxy?.stop(), node.stop()]);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Sending. Each chain has one send lane: transactions go out one at a time in call order (so anvil hands out
// nonces in that order), and mine() first waits for everything already handed to the lane. With automine off,
// `const a = emitInitiating(c); const b = executeMessage(c, ...); await mine(c)` puts a and b in one block.

const lanes = new WeakMap<DevChain, Promise<unknown>>();

function sendInLane<T>(chain: DevChain, send: () => Promise<T>): Promise<T> {
  const previous = lanes.get(chain) ?? Promise.resolve();
  const sent = previous.then(send);
  lanes.set(
    chain,
    sent.catch(() => undefined),
  );
  return sent;
}

async function laneSettled(chain: DevChain): Promise<void> {
  await lanes.get(chain);
}

async function minedReceipt(chain: DevChain, hash: Hash): Promise<TransactionReceipt> {
  for (;;) {
    try {
      const receipt = await chain.client.getTransactionReceipt({ hash });
      if (receipt.status !== 'success') throw new Error(`transaction ${hash} on chain ${chain.chainId} reverted`);
      return receipt;
    } catch (err) {
      if (!(err instanceof TransactionReceiptNotFoundError)) throw err;
    }
    await new Promise((r) => setTimeout(r, RECEIPT_POLL_MS));
  }
}

interface MinedTx {
  receipt: TransactionReceipt;
  timestamp: bigint;
}

async function sendAndMine(chain: DevChain, send: () => Promise<Hash>): Promise<MinedTx> {
  const receipt = await minedReceipt(chain, await sendInLane(chain, send));
  const block = await chain.client.getBlock({ blockHash: receipt.blockHash });
  return { receipt, timestamp: block.timestamp };
}

// ---------------------------------------------------------------------------------------------------------
// The faulty inbox. A forged transaction goes out with DevInbox at the inbox address, and the real rule is put
// back once every forged transaction sent so far is mined (with automine off, other transactions of the same
// block run through DevInbox too; it emits what a correctly declared transaction would have emitted anyway).

const forgedInFlight = new WeakMap<DevChain, number>();

async function sendForgedAndMine(chain: DevChain, send: () => Promise<Hash>): Promise<MinedTx> {
  const hash = await sendInLane(chain, async () => {
    const inFlight = forgedInFlight.get(chain) ?? 0;
    if (inFlight === 0) await chain.client.setCode({ address: chain.inbox, bytecode: FAULTY_INBOX_CODE });
    forgedInFlight.set(chain, inFlight + 1);
    try {
      return await send();
    } catch (err) {
      await forgeryDone(chain);
      throw err;
    }
  });
  try {
    const receipt = await minedReceipt(chain, hash);
    const block = await chain.client.getBlock({ blockHash: receipt.blockHash });
    return { receipt, timestamp: block.timestamp };
  } finally {
    await sendInLane(chain, () => forgeryDone(chain));
  }
}

async function forgeryDone(chain: DevChain): Promise<void> {
  const inFlight = (forgedInFlight.get(chain) ?? 1) - 1;
  forgedInFlight.set(chain, inFlight);
  if (inFlight === 0) await chain.client.setCode({ address: chain.inbox, bytecode: REAL_INBOX_CODE });
}

/** What a transaction pays for its access list (EIP-2930), on top of its execution. */
function accessListGas(accessList: AccessList): bigint {
  return accessList.reduce(
    (sum, item) => sum + GAS_PER_ACCESS_LIST_ADDRESS + BigInt(item.storageKeys.length) * GAS_PER_ACCESS_LIST_KEY,
    0n,
  );
}

function logsFrom(receipt: TransactionReceipt, address: Address): Log<bigint, number, false>[] {
  return receipt.logs.filter((log) => log.address.toLowerCase() === address.toLowerCase());
}

// ---------------------------------------------------------------------------------------------------------
// Initiating messages.

export interface InitiatingLog {
  chainId: bigint;
  origin: Address;
  blockNumber: bigint;
  blockHash: Hash;
  /** Block-level log index, as Identifier.logIndex counts it. */
  logIndex: bigint;
  timestamp: bigint;
  txHash: Hash;
  topics: Hex[];
  data: Hex;
  msgHash: Hash;
  /** What an executing message for this log carries. */
  identifier: Identifier;
}

// Distinct Ping numbers by default give every initiating message of a test run a distinct msgHash.
let nextPing = 1n;

function takePings(count: bigint): bigint {
  const start = nextPing;
  nextPing += count;
  return start;
}

function toInitiatingLogs(chain: DevChain, { receipt, timestamp }: MinedTx): InitiatingLog[] {
  return logsFrom(receipt, chain.emitter).map((log) => {
    const origin = getAddress(log.address);
    const chainId = BigInt(chain.chainId);
    const logIndex = BigInt(log.logIndex);
    return {
      chainId,
      origin,
      blockNumber: log.blockNumber,
      blockHash: log.blockHash,
      logIndex,
      timestamp,
      txHash: log.transactionHash,
      topics: [...log.topics],
      data: log.data,
      msgHash: messagePayloadHash(log),
      identifier: { origin, blockNumber: log.blockNumber, logIndex, timestamp, chainId },
    };
  });
}

/** Emits one initiating log, Ping(n, data), and returns it as mined. */
export async function emitInitiating(chain: DevChain, options: { n?: bigint; data?: Hex } = {}): Promise<InitiatingLog> {
  const n = options.n ?? takePings(1n);
  const data = options.data ?? '0x';
  const mined = await sendAndMine(chain, () =>
    chain.client.writeContract({
      address: chain.emitter,
      abi: emitterAbi,
      functionName: 'ping',
      args: [n, data],
      gas: BASE_GAS + GAS_PER_PING + GAS_PER_DATA_BYTE * BigInt(byteLength(data)),
    }),
  );
  const [log] = toInitiatingLogs(chain, mined);
  if (!log) throw new Error(`ping transaction ${mined.receipt.transactionHash} emitted no log`);
  return log;
}

/** Emits `count` initiating logs in one transaction. */
export async function emitInitiatingMany(chain: DevChain, count: number, data: Hex = '0x'): Promise<InitiatingLog[]> {
  const start = takePings(BigInt(count));
  const mined = await sendAndMine(chain, () =>
    chain.client.writeContract({
      address: chain.emitter,
      abi: emitterAbi,
      functionName: 'pingMany',
      args: [start, BigInt(count), data],
      gas: BASE_GAS + BigInt(count) * (GAS_PER_PING + GAS_PER_DATA_BYTE * BigInt(byteLength(data))),
    }),
  );
  return toInitiatingLogs(chain, mined);
}

function byteLength(data: Hex): number {
  return (data.length - 2) / 2;
}

// ---------------------------------------------------------------------------------------------------------
// Executing messages.

export interface ExecutedMessage {
  chainId: bigint;
  txHash: Hash;
  blockNumber: bigint;
  blockHash: Hash;
  logIndex: bigint;
  timestamp: bigint;
  identifier: Identifier;
  msgHash: Hash;
}

function toExecutedMessages(chain: DevChain, { receipt, timestamp }: MinedTx): ExecutedMessage[] {
  return logsFrom(receipt, chain.inbox).map((log) => {
    const decoded = decodeExecutingLog(log);
    if (!decoded.ok) throw new Error(`inbox log ${log.logIndex} of ${log.transactionHash} did not decode: ${decoded.reason}`);
    return {
      chainId: BigInt(chain.chainId),
      txHash: log.transactionHash,
      blockNumber: log.blockNumber,
      blockHash: log.blockHash,
      logIndex: BigInt(log.logIndex),
      timestamp,
      identifier: decoded.identifier,
      msgHash: decoded.msgHash,
    };
  });
}

export interface ExecuteOptions {
  /**
   * Execute even in a block older than the identifier's timestamp (a message "from the future"). By default the
   * chain's clock is first moved up to that timestamp, as a relayer waits for the executing chain to catch up:
   * anvil's clocks drift apart (each block at least a second after the last), and a valid message would otherwise
   * now and then be executed "before" it was initiated.
   */
  allowEarlierBlock?: boolean;
  /**
   * The transaction's access list. By default the one that declares the messages, as a relayer sends it
   * (src/chain/access-list.ts `accessListFor`); the real inbox reverts on one that does not declare them.
   */
  accessList?: AccessList;
  /**
   * Forge the logs: send through the faulty inbox, which emits whatever it is given whatever the access list, as a
   * faulty inbox or sequencer would.
   */
  forged?: boolean;
}

/**
 * The transaction that executes these messages, in order, with the access list that declares them (or the one
 * given): the real inbox's validateMessage for one message, MessageBatcher for several; with `forged`, the faulty
 * inbox's. For senders that need the request itself (the bench puts many in one block): send it with sendTransaction.
 */
export function executingTransaction(
  chain: DevChain,
  items: readonly { identifier: Identifier; msgHash: Hash }[],
  options: Pick<ExecuteOptions, 'accessList' | 'forged'> = {},
): { to: Address; data: Hex; accessList: AccessList; gas: bigint } {
  const accessList = options.accessList ?? accessListFor(chain.inbox, items);
  const gas = BASE_GAS + BigInt(items.length) * GAS_PER_EXECUTING_MESSAGE + accessListGas(accessList);
  const ids = items.map((i) => i.identifier);
  const hashes = items.map((i) => i.msgHash);
  const one = items.length === 1;
  if (options.forged) {
    const data = one
      ? encodeFunctionData({ abi: faultyInboxAbi, functionName: 'validateMessage', args: [ids[0]!, hashes[0]!] })
      : encodeFunctionData({ abi: faultyInboxAbi, functionName: 'validateMessages', args: [ids, hashes] });
    return { to: chain.inbox, data, accessList, gas };
  }
  if (one) {
    const data = encodeFunctionData({ abi: crossL2InboxAbi, functionName: 'validateMessage', args: [ids[0]!, hashes[0]!] });
    return { to: chain.inbox, data, accessList, gas };
  }
  const data = encodeFunctionData({ abi: messageBatcherAbi, functionName: 'validateMessages', args: [ids, hashes] });
  return { to: chain.batcher, data, accessList, gas };
}

/**
 * Unless the chain's next block is as recent already, makes it carry `timestamp`. Call inside the send lane. The
 * pending block tells, including a timestamp a test set for it on purpose, which is kept.
 */
async function catchUpClock(chain: DevChain, timestamp: bigint): Promise<void> {
  const next = await chain.client.getBlock({ blockTag: 'pending' });
  if (next.timestamp < timestamp) await chain.client.setNextBlockTimestamp({ timestamp });
}

/**
 * Emits one ExecutingMessage from the inbox: valid or not is up to the caller's identifier and hash. The real inbox
 * takes it with the access list that declares it; one without (`accessList`) reverts, unless `forged`.
 */
export async function executeMessage(
  chain: DevChain,
  identifier: Identifier,
  msgHash: Hash,
  options: ExecuteOptions = {},
): Promise<ExecutedMessage> {
  const [message] = await executeMessages(chain, [{ identifier, msgHash }], options);
  if (!message) throw new Error(`validateMessage transaction on chain ${chain.chainId} emitted no log`);
  return message;
}

/** Emits one ExecutingMessage per item, all in one transaction, in order. */
export async function executeMessages(
  chain: DevChain,
  items: readonly { identifier: Identifier; msgHash: Hash }[],
  options: ExecuteOptions = {},
): Promise<ExecutedMessage[]> {
  const latest = items.reduce((max, i) => (i.identifier.timestamp > max ? i.identifier.timestamp : max), 0n);
  const request = executingTransaction(chain, items, options);
  const send = async () => {
    if (!options.allowEarlierBlock) await catchUpClock(chain, latest);
    return chain.client.sendTransaction(request);
  };
  const mined = await (options.forged ? sendForgedAndMine(chain, send) : sendAndMine(chain, send));
  return toExecutedMessages(chain, mined);
}

export interface RawLogReceipt {
  txHash: Hash;
  blockNumber: bigint;
  blockHash: Hash;
  timestamp: bigint;
  logs: { address: Address; logIndex: bigint; topics: Hex[]; data: Hex }[];
}

/** Emits an arbitrary log (0..4 topics) from the inbox address through the faulty inbox, for malformed-log tests. */
export async function emitRawFromInbox(chain: DevChain, topics: readonly Hex[], data: Hex): Promise<RawLogReceipt> {
  const { receipt, timestamp } = await sendForgedAndMine(chain, () =>
    chain.client.writeContract({
      address: chain.inbox,
      abi: faultyInboxAbi,
      functionName: 'emitRaw',
      args: [topics, data],
      gas: BASE_GAS + GAS_PER_EXECUTING_MESSAGE + GAS_PER_DATA_BYTE * BigInt(byteLength(data)),
    }),
  );
  return {
    txHash: receipt.transactionHash,
    blockNumber: receipt.blockNumber,
    blockHash: receipt.blockHash,
    timestamp,
    logs: logsFrom(receipt, chain.inbox).map((log) => ({
      address: getAddress(log.address),
      logIndex: BigInt(log.logIndex),
      topics: [...log.topics],
      data: log.data,
    })),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Blocks, time and snapshots. Each waits for the send lane first, so it acts on (or sees) the transactions
// the test already asked for.

export async function mine(chain: DevChain, blocks = 1): Promise<void> {
  await laneSettled(chain);
  await chain.client.mine({ blocks });
}

export async function setNextBlockTimestamp(chain: DevChain, timestamp: bigint): Promise<void> {
  await laneSettled(chain);
  await chain.client.setNextBlockTimestamp({ timestamp });
}

export async function increaseTime(chain: DevChain, seconds: number): Promise<void> {
  await laneSettled(chain);
  await chain.client.increaseTime({ seconds });
}

export async function setAutomine(chain: DevChain, on: boolean): Promise<void> {
  await laneSettled(chain);
  await chain.client.setAutomine(on);
}

export async function latestBlock(chain: DevChain): Promise<Block<bigint, false, 'latest'>> {
  await laneSettled(chain);
  return chain.client.getBlock({ blockTag: 'latest' });
}

/** The head block number as the node has it now: viem would otherwise answer from its cache for a polling interval. */
export function headNumber(chain: DevChain): Promise<bigint> {
  return chain.client.getBlockNumber({ cacheTime: 0 });
}

// The head at each snapshot, so replaceBlocksFrom knows which block it replaces before the revert erases it.
const snapshotHeads = new WeakMap<DevChain, Map<Hex, bigint>>();

/**
 * Takes an evm snapshot; its id can be used once, by revert or replaceBlocksFrom. (Under interval mining a
 * block may land between the snapshot and the head read that replaceBlocksFrom relies on.)
 */
export async function snapshot(chain: DevChain): Promise<Hex> {
  await laneSettled(chain);
  const id = await chain.client.snapshot();
  const head = await headNumber(chain);
  const heads = snapshotHeads.get(chain) ?? new Map<Hex, bigint>();
  heads.set(id, head);
  snapshotHeads.set(chain, heads);
  return id;
}

/** Reverts to a snapshot, which anvil consumes. */
export async function revert(chain: DevChain, id: Hex): Promise<void> {
  await laneSettled(chain);
  // viem's revert() drops evm_revert's boolean, and a silently failed revert makes a test lie.
  const ok: unknown = await chain.client.request({ method: 'evm_revert', params: [id] });
  if (ok !== true) throw new Error(`evm_revert(${id}) failed on chain ${chain.chainId}: unknown or already used snapshot`);
  snapshotHeads.get(chain)?.delete(id);
}

/**
 * Replaces the block after the snapshot's head with an empty one, as the protocol replaces a block holding an
 * invalid executing message with a deposits-only block. Everything mined after the snapshot is dropped; the
 * replacement keeps the original's timestamp (anvil would otherwise rewind its clock to the snapshot), and the
 * blocks after it carry the wall clock again: anvil would count on from the replacement, and this chain would
 * trail the others by the time the replacement took, so that a valid message from another chain would look
 * executed before it was initiated.
 */
export async function replaceBlocksFrom(chain: DevChain, snapshotId: Hex): Promise<{ number: bigint; hash: Hash; timestamp: bigint }> {
  const head = snapshotHeads.get(chain)?.get(snapshotId);
  if (head === undefined) throw new Error(`snapshot ${snapshotId} was not taken with snapshot() on chain ${chain.chainId}`);
  await laneSettled(chain);
  const original = await chain.client.getBlock({ blockNumber: head + 1n }).catch((err: unknown) => {
    if (err instanceof BlockNotFoundError) return undefined;
    throw err;
  });
  await revert(chain, snapshotId);
  if (original) await setNextBlockTimestamp(chain, original.timestamp);
  await chain.client.mine({ blocks: 1 });
  const replacement = await chain.client.getBlock({ blockNumber: head + 1n });
  if (original && replacement.hash === original.hash) {
    throw new Error(`block ${head + 1n} on chain ${chain.chainId} was empty already: its replacement is identical`);
  }
  const now = BigInt(Math.floor(Date.now() / 1000));
  await chain.client.setNextBlockTimestamp({ timestamp: now > replacement.timestamp ? now : replacement.timestamp + 1n });
  return { number: replacement.number, hash: replacement.hash, timestamp: replacement.timestamp };
}

/** What `safe` (the cross-safe head) means through the proxy from now on; null hands it back to anvil. */
export async function setSafe(chain: DevChain, n: bigint | null): Promise<void> {
  chain.proxy.setLabel('safe', n);
}

/** What `finalized` means through the proxy from now on; null hands it back to anvil. */
export async function setFinalized(chain: DevChain, n: bigint | null): Promise<void> {
  chain.proxy.setLabel('finalized', n);
}

/** Holds every chain's safe and finalized labels at genesis: nothing becomes cross-safe or final until told so. */
export async function holdLabelsAtGenesis(devnet: Devnet): Promise<void> {
  for (const c of devnet.chains) {
    await setSafe(c, 0n);
    await setFinalized(c, 0n);
  }
}
