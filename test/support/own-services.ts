// A Postgres cluster and a Redis server of a test's own, on spare ports, that the test may stop and start again
// (fault tests never touch the shared ones).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '@threadwork/testing/wait';

const run = promisify(execFile);

/** A port nothing listens on: taken from the OS, then released. */
export async function sparePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether something accepts TCP connections on the port. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** The newest installed Postgres's binaries (Debian's layout), if any. */
function postgresBin(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const newest = readdirSync(base)
    .filter((version) => existsSync(join(base, version, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a))[0];
  return newest ? join(base, newest, 'bin') : null;
}

const redisServer = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((path) => existsSync(path));

/** Whether this machine can run the test's own servers. */
export interface OwnServer {
  /** The server's URL (for Postgres, its `postgres` database; pick another with databaseUrlFor). */
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and removes what it left on disk. */
  destroy(): Promise<void>;
}

/** Postgres refuses to run as root: as root its tools run as the `postgres` user. */
function asPostgres(command: string, args: string[]): Promise<unknown> {
  if (process.getuid?.() !== 0) return run(command, args);
  return run('runuser', ['-u', 'postgres', '--', command, ...args]);
}

export async function startOwnPostgres(): Promise<OwnServer> {
  const bin = postgresBin();
  if (!bin) throw new Error('no Postgres binaries under /usr/lib/postgresql');
  const dir = mkdtempSync(join(tmpdir(), 'tw-own-pg-'));
  if (process.getuid?.() === 0) await run('chown', ['postgres:postgres', dir]);
  const data = join(dir, 'data');
  const port = await sparePort();
  await asPostgres(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-N', '-E', 'UTF8']);
  const options = `-p ${port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  const pgCtl = (...args: string[]) => asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-w', ...args]);
  let running = false;
  const server: OwnServer = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async start() {
      await pgCtl('-o', options, '-l', join(dir, 'log'), 'start');
      running = true;
    },
    async stop() {
      await pgCtl('-m', 'fast', 'stop');
      running = false;
    },
    async destroy() {
      if (running) await server.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

export async function startOwnRedis(): Promise<OwnServer> {
  if (!redisServer) throw new Error('no redis-server found');
  const port = await sparePort();
  let child: ChildProcess | null = null;
  const server: OwnServer = {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
      child = spawn(redisServer, args, { stdio: 'ignore' });
      await waitFor(() => accepts(port), { timeoutMs: 10_000, what: `redis-server on port ${port}` });
    },
    async stop() {
      const stopping = child;
      child = null;
      if (!stopping || stopping.exitCode !== null) return;
      const exited = new Promise((resolve) => stopping.once('exit', resolve));
      stopping.kill('SIGTERM');
      await exited;
    },
    destroy: () => server.stop(),
  };
  await server.start();
  return server;
}
