/**
 * The first line of an error's message (of anything thrown): what a log field, a chat reply or a configuration
 * problem shows. viem and ioredis errors run over many lines of details and a stack-like trail.
 */
export function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? 'unknown error';
}
