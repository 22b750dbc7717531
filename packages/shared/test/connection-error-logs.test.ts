import net from 'node:net';
import { randomPrefix, waitFor } from '@threadwork/testing';
import { describe, expect, it } from 'vitest';
import { closeQueues, createLogger, createQueues, createRedis, logConnectionErrors } from '../src/index.js';

interface Line {
  msg: string;
  source?: string;
  leftOut?: number;
  err?: { message: string };
}

function capturingLogger() {
  const lines: Line[] = [];
  const log = createLogger({
    name: 'test',
    level: 'info',
    pretty: false,
    destination: { write: (line: string) => lines.push(JSON.parse(line) as Line) },
  });
  return { log, lines };
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('logConnectionErrors', () => {
  it('logs the first error, then one line per interval saying how many it left out', () => {
    const { log, lines } = capturingLogger();
    let clock = 0;
    const listener = logConnectionErrors(log, 'runs queue', 10_000, () => clock);
    for (const at of [0, 1_000, 2_000, 9_999, 10_000, 15_000, 30_000]) {
      clock = at;
      listener(new Error(`refused at ${at}`));
    }
    expect(lines.map((line) => [line.err?.message, line.leftOut])).toEqual([
      ['refused at 0', 0],
      ['refused at 10000', 3],
      ['refused at 30000', 1],
    ]);
    expect(lines.every((line) => line.source === 'runs queue' && line.msg === 'redis connection error')).toBe(
      true,
    );
  });
});

describe('connections and queues built by the shared factories', () => {
  it('log their errors while Redis cannot be reached, each under its own name', async () => {
    const { log, lines } = capturingLogger();
    const redis = createRedis(`redis://127.0.0.1:${await closedPort()}`, 'producer', 'test-producer', log);
    const queues = createQueues(redis, randomPrefix(), log);
    try {
      const expected = ['test-producer', 'runs queue', 'tools queue', 'flow producer'];
      await waitFor(async () => expected.every((source) => lines.some((line) => line.source === source)), {
        timeoutMs: 10_000,
        what: () => `error lines from ${expected} (got ${JSON.stringify(lines)})`,
      });
      expect(lines.find((line) => line.source === 'runs queue')?.err?.message).toMatch(/ECONNREFUSED/);
    } finally {
      await closeQueues(queues).catch(() => {});
      redis.disconnect();
    }
  });
});
