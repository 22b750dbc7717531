// A worker's HTTP endpoints: /healthz (alive), /readyz (its dependencies answer), /metrics (Prometheus).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { withTimeout } from './lifecycle.js';

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export type ReadinessChecks = Record<string, () => Promise<unknown>>;

const CHECK_TIMEOUT_MS = 2_000;

function probe(check: () => Promise<unknown>): Promise<boolean> {
  return withTimeout(check(), CHECK_TIMEOUT_MS, 'readiness check').then(
    () => true,
    () => false,
  );
}

async function readiness(
  checks: ReadinessChecks,
): Promise<{ ready: boolean; checks: Record<string, 'ok' | 'unreachable'> }> {
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => [name, await probe(check)] as const),
  );
  return {
    ready: results.every(([, ok]) => ok),
    checks: Object.fromEntries(results.map(([name, ok]) => [name, ok ? 'ok' : 'unreachable'])),
  };
}

function send(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function sendMetrics(response: http.ServerResponse, registry: Registry): void {
  registry.metrics().then(
    (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
    () => send(response, 500, { error: 'metrics unavailable' }),
  );
}

export async function startHealthServer(
  port: number,
  checks: ReadinessChecks,
  registry: Registry,
): Promise<HealthServer> {
  const server = http.createServer((request, response) => {
    if (request.method !== 'GET') return send(response, 405, { error: 'method not allowed' });
    if (request.url === '/healthz') return send(response, 200, { status: 'ok' });
    if (request.url === '/metrics') return sendMetrics(response, registry);
    if (request.url !== '/readyz') return send(response, 404, { error: 'not found' });
    readiness(checks).then(
      (result) =>
        send(response, result.ready ? 200 : 503, {
          status: result.ready ? 'ready' : 'not ready',
          checks: result.checks,
        }),
      () => send(response, 503, { status: 'not ready' }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
