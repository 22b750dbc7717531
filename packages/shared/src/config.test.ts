import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';
import { redisTargetOf } from './redis.js';

describe('loadConfig: TRUST_PROXY', () => {
  it('is off by default, and reads true, hop counts and lists of proxies', () => {
    expect(loadConfig({}).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'false' }).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::1' }).TRUST_PROXY).toEqual([
      'loopback',
      '10.0.0.0/8',
      'fd00::1',
    ]);
  });

  it('refuses what express could not read', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'my-balancer' })).toThrow(/TRUST_PROXY/);
    expect(() => loadConfig({ TRUST_PROXY: '10.0.0.0/99' })).toThrow(/TRUST_PROXY/);
  });
});

describe('loadConfig: HTTP timeouts', () => {
  it('defaults to deadlines for headers, whole requests and silences', () => {
    const config = loadConfig({});
    expect(config.HTTP_HEADERS_TIMEOUT_MS).toBe(20_000);
    expect(config.HTTP_REQUEST_TIMEOUT_MS).toBe(60_000);
    expect(config.HTTP_IDLE_TIMEOUT_MS).toBe(120_000);
  });

  it('refuses an idle timeout that would cut off a chat wait or an SSE stream between heartbeats', () => {
    expect(() => loadConfig({ HTTP_IDLE_TIMEOUT_MS: '60000' })).toThrow(ConfigError);
    const short = { HTTP_IDLE_TIMEOUT_MS: '1000', CHAT_WAIT_TIMEOUT_MS: '500', SSE_HEARTBEAT_MS: '100' };
    expect(() => loadConfig(short)).not.toThrow();
    expect(() => loadConfig({ ...short, SSE_HEARTBEAT_MS: '2000' })).toThrow(/HTTP_IDLE_TIMEOUT_MS/);
  });

  it('refuses a headers timeout longer than the request timeout that includes it', () => {
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '70000' })).toThrow(/HTTP_HEADERS_TIMEOUT_MS/);
  });
});

describe('loadConfig: scale-out', () => {
  it('takes a Redis Cluster as seed nodes, which then replace REDIS_URL', () => {
    const config = loadConfig({ REDIS_CLUSTER_NODES: 'redis-1:6379, 10.0.0.2:7000' });
    expect(config.REDIS_CLUSTER_NODES).toEqual(['redis-1:6379', '10.0.0.2:7000']);
    expect(redisTargetOf(config)).toEqual({ clusterNodes: ['redis-1:6379', '10.0.0.2:7000'] });
    expect(redisTargetOf(loadConfig({}))).toEqual({ url: 'redis://127.0.0.1:6379' });
  });

  it('refuses cluster nodes that are not host:port', () => {
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'redis://redis-1:6379' })).toThrow(/REDIS_CLUSTER_NODES/);
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'redis-1' })).toThrow(/host:port/);
  });
});
