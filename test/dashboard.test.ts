import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWorld } from './helpers/world.js';
import { type RunningXmsg, scrape } from './helpers/xmsg.js';

interface Dashboard {
  panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
}

const world = useWorld({ name: 'dashboard', chainIds: [961] });
let x: RunningXmsg;

beforeAll(async () => {
  x = await world.startXmsg();
});

describe('Grafana dashboard', () => {
  it('queries only metrics that xmsg exports', async () => {
    const dashboard = JSON.parse(await readFile(new URL('../dashboards/xmsg.json', import.meta.url), 'utf8')) as Dashboard;
    const exported = new Set([...(await scrape(x.baseUrl)).matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    const queried = new Set(
      dashboard.panels.flatMap((p) =>
        p.targets.flatMap((t) => [...t.expr.matchAll(/\bxmsg_\w+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, ''))),
      ),
    );
    expect(queried.size).toBeGreaterThan(10);
    expect([...queried].filter((name) => !exported.has(name))).toEqual([]);
  });
});
