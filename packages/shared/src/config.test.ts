import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

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
