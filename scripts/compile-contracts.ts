/**
 * Compiles the devnet test contracts with the solc npm package and writes src/devnet/artifacts.json, which is
 * checked in so tests never compile. Run with `npm run compile-contracts` after editing contracts/*.sol;
 * test/devnet.test.ts fails when the checked-in artifacts no longer match the sources.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import solc from 'solc';
import { type Abi, type Hex, keccak256, stringToHex } from 'viem';

export const CONTRACT_NAMES = ['CrossL2Inbox', 'DevInbox', 'Emitter', 'MessageBatcher'] as const;
export type ContractName = (typeof CONTRACT_NAMES)[number];

export interface ContractArtifact {
  abi: Abi;
  deployedBytecode: Hex;
  /** keccak256 of the source text, to tell a stale artifact from a fresh one. */
  sourceHash: Hex;
}
export type Artifacts = Record<ContractName, ContractArtifact>;

const contractsDir = new URL('../contracts/', import.meta.url);
export const ARTIFACTS_PATH = fileURLToPath(new URL('../src/devnet/artifacts.json', import.meta.url));

interface SolcOutput {
  errors?: { severity: 'error' | 'warning' | 'info'; formattedMessage: string }[];
  contracts?: Record<string, Record<string, { abi: Abi; evm: { deployedBytecode: { object: string } } }>>;
}

export function compileContracts(): Artifacts {
  const sources = Object.fromEntries(
    CONTRACT_NAMES.map((name) => [`${name}.sol`, { content: readFileSync(new URL(`${name}.sol`, contractsDir), 'utf8') }]),
  );
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      optimizer: { enabled: true, runs: 200 },
      // Pinned so the bytecode runs on anvil whatever hardfork solc would default to.
      evmVersion: 'cancun',
      outputSelection: { '*': { '*': ['abi', 'evm.deployedBytecode.object'] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new Error(`solc failed:\n${errors.map((e) => e.formattedMessage).join('\n')}`);

  const artifacts = {} as Artifacts;
  for (const name of CONTRACT_NAMES) {
    const compiled = output.contracts?.[`${name}.sol`]?.[name];
    if (!compiled) throw new Error(`solc produced no output for ${name}`);
    artifacts[name] = {
      abi: compiled.abi,
      deployedBytecode: `0x${compiled.evm.deployedBytecode.object}`,
      sourceHash: keccak256(stringToHex(sources[`${name}.sol`]!.content)),
    };
  }
  return artifacts;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(ARTIFACTS_PATH, `${JSON.stringify(compileContracts(), null, 2)}\n`);
  console.log(`wrote ${ARTIFACTS_PATH} (solc ${solc.version()})`);
}
