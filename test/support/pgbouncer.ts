// A pgbouncer of a test's own in transaction mode, on a spare port in front of a Postgres server: every database of
// the server is reachable through it under the same name. Debian's pgbouncer refuses to run as root, so as root it
// runs as the `postgres` user.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '@threadwork/testing/wait';
import pg from 'pg';
import { accepts, sparePort } from './own-services.js';

const run = promisify(execFile);

const pgbouncerBin = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer'].find((path) =>
  existsSync(path),
);

export interface PoolRow {
  database: string;
  cl_active: number;
  sv_active: number;
  sv_idle: number;
}

export interface OwnPgbouncer {
  /** The server URL with pgbouncer's host and port instead of Postgres's. */
  urlFor(directUrl: string): string;
  /** SHOW POOLS through pgbouncer's admin console: server connections per database, by state. */
  pools(): Promise<PoolRow[]>;
  destroy(): Promise<void>;
}

export interface PgbouncerOptions {
  /** Server connections per database and user. */
  poolSize?: number;
}

async function postgresIds(): Promise<{ uid: number; gid: number } | null> {
  if (process.getuid?.() !== 0) return null;
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export async function startOwnPgbouncer(
  serverUrl: string,
  options: PgbouncerOptions = {},
): Promise<OwnPgbouncer> {
  if (!pgbouncerBin) throw new Error('no pgbouncer found (apt-get install pgbouncer)');
  const server = new URL(serverUrl);
  const port = await sparePort();
  const dir = mkdtempSync(join(tmpdir(), 'tw-pgbouncer-'));
  const ids = await postgresIds();
  const config = [
    '[databases]',
    `* = host=${server.hostname} port=${server.port || 5432}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'auth_type = trust',
    `auth_file = ${join(dir, 'users.txt')}`,
    'admin_users = postgres',
    'pool_mode = transaction',
    `default_pool_size = ${options.poolSize ?? 20}`,
    'max_client_conn = 1000',
    'server_reset_query =',
    `logfile = ${join(dir, 'pgbouncer.log')}`,
  ].join('\n');
  writeFileSync(join(dir, 'pgbouncer.ini'), `${config}\n`);
  writeFileSync(join(dir, 'users.txt'), '"postgres" ""\n');
  if (ids)
    for (const name of ['', 'pgbouncer.ini', 'users.txt']) chownSync(join(dir, name), ids.uid, ids.gid);
  const child: ChildProcess = spawn(pgbouncerBin, [join(dir, 'pgbouncer.ini')], {
    stdio: 'ignore',
    ...(ids ?? {}),
  });
  const destroy = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => child.exitCode === null && (await accepts(port)), {
      timeoutMs: 10_000,
      what: `pgbouncer on port ${port}`,
    });
  } catch (error) {
    await destroy();
    throw error;
  }
  return {
    urlFor(directUrl) {
      const url = new URL(directUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    async pools() {
      const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/pgbouncer` });
      await client.connect();
      try {
        return (await client.query<PoolRow>('show pools')).rows;
      } finally {
        await client.end();
      }
    },
    destroy,
  };
}
