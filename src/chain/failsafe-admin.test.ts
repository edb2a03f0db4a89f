import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startFailsafeAdminStandIn } from '../devnet/failsafe-admin-stand-in.js';
import { adminJwt, endpointLabel, FailsafeAdmin, parseJwtSecret } from './failsafe-admin.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

describe('the failsafe admin client', () => {
  it('signs each call with an HS256 token the admin port accepts, and reads and sets the failsafe', async () => {
    const secret = randomBytes(32);
    const port = await startFailsafeAdminStandIn({ secret });
    closers.push(port.close);
    const admin = new FailsafeAdmin(port.url, { secret });
    expect(await admin.enabled()).toBe(false);
    await admin.setEnabled(true);
    expect(await admin.enabled()).toBe(true);
    expect(port.sets).toEqual([true]);
  });

  it('says the endpoint refused the authentication: no token, a wrong secret, a stale token', async () => {
    const secret = randomBytes(32);
    const port = await startFailsafeAdminStandIn({ secret });
    closers.push(port.close);
    await expect(new FailsafeAdmin(port.url).enabled()).rejects.toMatchObject({ failure: 'unauthorized', message: /missing token/ });
    await expect(new FailsafeAdmin(port.url, { secret: randomBytes(32) }).enabled()).rejects.toMatchObject({ failure: 'unauthorized' });
    const stale = adminJwt(secret, Date.now() - 120_000);
    const res = await fetch(port.url, { method: 'POST', headers: { authorization: `Bearer ${stale}` }, body: '{}' });
    expect([res.status, (await res.text()).trim()]).toEqual([401, 'stale token']);
  });

  it('says an endpoint that does not answer is unreachable', async () => {
    const port = await startFailsafeAdminStandIn();
    await port.close();
    await expect(new FailsafeAdmin(port.url, { timeoutMs: 1000 }).enabled()).rejects.toMatchObject({ failure: 'unreachable' });
  });

  it('names an endpoint by host and port only, never its credentials', () => {
    expect(endpointLabel('https://user:pw@filter.internal/admin?key=secret')).toBe('filter.internal:443');
    expect(endpointLabel('http://127.0.0.1:9645/')).toBe('127.0.0.1:9645');
  });

  it('reads the secret file as op-node writes it: 64 hex characters, 0x optional', () => {
    const hex = 'ab'.repeat(32);
    expect(parseJwtSecret(`0x${hex}\n`).toString('hex')).toBe(hex);
    expect(() => parseJwtSecret('abc')).toThrow(/64 hex characters/);
  });
});
