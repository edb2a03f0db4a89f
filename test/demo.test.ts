import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const DEMO_SECONDS = 55;

/** `npm run demo` as a person runs it, for a bounded time; its exit code is its own verdict. */
function runDemo(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], {
      env: { ...process.env, XMSG_DEMO_SECONDS: String(DEMO_SECONDS), XMSG_HTTP_PORT: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('npm run demo', () => {
  it(
    'shows every kind of trouble on a 3-chain devnet, each reported and each alert opened or closed',
    async () => {
      const { code, output } = await runDemo();
      expect(output, output).toContain('result: OK');
      expect(code).toBe(0);
      for (const scenario of [
        'invalid → replaced',
        'invalid → cross-safety violation',
        'expired → replaced',
        'unpromoted → promoted',
        'node down → back',
      ]) {
        expect(output, output).toMatch(new RegExp(`✓ ${scenario} \\(#\\d+\\)`));
      }
      expect(output).toMatch(/▲ alert opened +XM-\d+ critical cross_safety_violation on chain 90\d/);
      expect(output).toMatch(/▼ alert closed +XM-\d+ by xmsg/);
      expect(output).not.toContain('not provoked by the demo');
    },
    (DEMO_SECONDS + 40) * 1000,
  );
});
