import net from 'node:net';
import { databaseUrlFor } from '@threadwork/testing';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { closeDb, createDb, createRedis, isConnectionFailure } from '../src/index.js';

/** A port nothing listens on: taken from the OS, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const serverUrl = () => databaseUrlFor(inject('databaseServerUrl'), 'postgres');

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('isConnectionFailure', () => {
  it('recognises a query on a Postgres that is not there, through drizzle and for both address families', async () => {
    const port = await closedPort();
    for (const host of ['127.0.0.1', 'localhost']) {
      const db = createDb({ url: `postgres://postgres@${host}:${port}/threadwork`, poolSize: 1 });
      try {
        const error = await rejectionOf(db.execute('select 1'));
        expect(isConnectionFailure(error)).toBe(true);
      } finally {
        await closeDb(db);
      }
    }
  });

  it('recognises a backend terminated by an administrator (57P01)', async () => {
    const victim = new pg.Client({ connectionString: serverUrl() });
    const admin = new pg.Client({ connectionString: serverUrl() });
    victim.on('error', () => {});
    await Promise.all([victim.connect(), admin.connect()]);
    try {
      const { rows } = await victim.query<{ pid: number }>('select pg_backend_pid() as pid');
      const sleeping = rejectionOf(victim.query('select pg_sleep(30)'));
      await admin.query('select pg_terminate_backend($1)', [rows[0]?.pid]);
      const error = await sleeping;
      expect((error as { code?: string }).code).toBe('57P01');
      expect(isConnectionFailure(error)).toBe(true);
    } finally {
      await admin.end();
      await victim.end().catch(() => {});
    }
  });

  it('recognises a timeout waiting for a pool client', async () => {
    const pool = new pg.Pool({ connectionString: serverUrl(), max: 1, connectionTimeoutMillis: 100 });
    const held = await pool.connect();
    try {
      const error = await rejectionOf(pool.query('select 1'));
      expect(isConnectionFailure(error)).toBe(true);
    } finally {
      held.release();
      await pool.end();
    }
  });

  it('recognises ioredis refusing a command while disconnected, or after retrying it too often', async () => {
    const url = `redis://127.0.0.1:${await closedPort()}`;
    const producer = createRedis(url, 'producer', 'connection-failures-test');
    producer.on('error', () => {});
    const retrying = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => 20 });
    retrying.on('error', () => {});
    try {
      const offline = await rejectionOf(producer.get('key'));
      const retried = await rejectionOf(retrying.get('key'));
      expect((retried as Error).name).toBe('MaxRetriesPerRequestError');
      expect(isConnectionFailure(offline)).toBe(true);
      expect(isConnectionFailure(retried)).toBe(true);
    } finally {
      producer.disconnect();
      retrying.disconnect();
    }
  });

  it('recognises a command on a closed Redis connection', async () => {
    const redis = createRedis(inject('redisUrl'), 'worker', 'connection-failures-closed');
    await redis.ping();
    redis.disconnect();
    const error = await rejectionOf(redis.get('key'));
    expect((error as Error).message).toMatch(/Connection is closed/);
    expect(isConnectionFailure(error)).toBe(true);
  });

  it('does not take errors of the request itself for connection failures', async () => {
    const db = createDb({ url: serverUrl(), poolSize: 1 });
    const redis = createRedis(inject('redisUrl'), 'worker', 'connection-failures-request');
    try {
      const syntax = await rejectionOf(db.execute('selec 1'));
      const division = await rejectionOf(db.execute('select 1 / 0'));
      const wrongArity = await rejectionOf(redis.call('get'));
      for (const error of [syntax, division, wrongArity, new Error('boom'), null, 'text']) {
        expect(isConnectionFailure(error)).toBe(false);
      }
    } finally {
      redis.disconnect();
      await closeDb(db);
    }
  });
});
