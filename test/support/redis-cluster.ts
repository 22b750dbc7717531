// A Redis Cluster of a test's own: three masters on spare ports, no replicas, torn down with what it left on disk.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '@threadwork/testing/wait';
import { sparePort } from './own-services.js';

const run = promisify(execFile);

export interface OwnRedisCluster {
  /** host:port of each master, as REDIS_CLUSTER_NODES takes them. */
  nodes: string[];
  destroy(): Promise<void>;
}

function startNode(dir: string, port: number): ChildProcess {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    join(dir, `nodes-${port}.conf`),
    '--cluster-node-timeout',
    '2000',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
  ];
  return spawn('redis-server', args, { stdio: 'ignore' });
}

async function answers(port: number, ...command: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...command]);
  return stdout;
}

/** Every master agrees the cluster is up: all 16384 slots assigned and reachable. */
async function isClusterUp(ports: number[]): Promise<boolean> {
  const infos = await Promise.all(ports.map((port) => answers(port, 'cluster', 'info').catch(() => '')));
  return infos.every((info) => info.includes('cluster_state:ok') && info.includes('cluster_slots_ok:16384'));
}

export async function startOwnRedisCluster(masters = 3): Promise<OwnRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tw-redis-cluster-'));
  const ports: number[] = [];
  for (let index = 0; index < masters; index += 1) ports.push(await sparePort());
  const children = ports.map((port) => startNode(dir, port));
  const destroy = async () => {
    await Promise.all(
      children.map((child) => {
        if (child.exitCode !== null || child.signalCode !== null) return undefined;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        return exited;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () =>
        (await Promise.all(ports.map((port) => answers(port, 'ping').catch(() => '')))).every(
          (reply) => reply.trim() === 'PONG',
        ),
      { timeoutMs: 10_000, what: 'the cluster nodes to answer' },
    );
    const nodes = ports.map((port) => `127.0.0.1:${port}`);
    await run('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes']);
    await waitFor(() => isClusterUp(ports), {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: 'the cluster to be up',
    });
    return { nodes, destroy };
  } catch (error) {
    await destroy();
    throw error;
  }
}
