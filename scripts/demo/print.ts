/**
 * Terminal output of the demo: one timestamped line per thing that happened, short hashes, a little colour.
 * Colour only on a terminal (and never with NO_COLOR), so piping the demo into a file or a CI log stays clean.
 */

const COLOURS = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, grey: 90 } as const;
export type Colour = keyof typeof COLOURS;

const useColour = process.stdout.isTTY === true && !process.env.NO_COLOR;

export function paint(colour: Colour, text: string): string {
  return useColour ? `\x1b[${COLOURS[colour]}m${text}\x1b[39m` : text;
}

export function bold(text: string): string {
  return useColour ? `\x1b[1m${text}\x1b[22m` : text;
}

/** `0x1234…abcd`: enough to tell hashes apart by eye and to find one in the full output. */
export function shortHash(hash: string): string {
  return hash.length > 14 ? `${hash.slice(0, 6)}…${hash.slice(-4)}` : hash;
}

/** Message ids are `<chainId>-<executing block hash>-<logIndex>`; the block hash is shortened. */
export function shortMessageId(id: string): string {
  const [chainId, blockHash, logIndex] = id.split('-');
  return blockHash === undefined ? id : `${chainId}-${shortHash(blockHash)}-${logIndex ?? '?'}`;
}

/** Shortens every hash or address inside free text (validity reasons quote two 32-byte hashes). */
export function shortenHexIn(text: string): string {
  return text.replace(/0x[0-9a-fA-F]{40,64}/g, shortHash);
}

export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Writes lines prefixed with the seconds since the demo started, so a person can follow the timeline. */
export class Printer {
  private readonly startedAt = Date.now();

  elapsedS(): number {
    return Math.round((Date.now() - this.startedAt) / 1000);
  }

  line(text: string): void {
    const stamp = paint('grey', `[${String(this.elapsedS()).padStart(4)}s]`);
    process.stdout.write(`${stamp} ${text}\n`);
  }

  /** Narration of what the demo itself does (holding labels, replacing blocks). */
  note(text: string): void {
    this.line(paint('grey', `   ${text}`));
  }

  raw(text = ''): void {
    process.stdout.write(`${text}\n`);
  }
}
