import { loadConfig } from '@threadwork/shared';
import { describe, expect, it } from 'vitest';
import { perToolValues, toolPolicies } from './tool-policy.js';

describe('perToolValues', () => {
  it('reads a default and per-tool overrides', () => {
    const value = perToolValues('X', ['10', 'run_sql=20'], Number);
    expect([value('run_sql'), value('list_tables')]).toEqual([20, 10]);
  });

  it('refuses unknown tools and a missing default', () => {
    expect(() => perToolValues('X', ['10', 'nope=1'], Number)).toThrow(/X: unknown tool 'nope'/);
    expect(() => perToolValues('X', ['run_sql=1'], Number)('list_tables')).toThrow(
      /no value for 'list_tables'/,
    );
  });
});

describe('toolPolicies', () => {
  it('enables every tool but drop_table by default, with the default limits', () => {
    const policies = toolPolicies(loadConfig({}));
    expect(policies.drop_table.enabled).toBe(false);
    expect(policies.run_sql).toEqual({
      enabled: true,
      timeoutMs: 15_000,
      perUser: { points: 30, durationSeconds: 60 },
      global: { points: 300, durationSeconds: 60 },
    });
  });

  it('follows TOOLS_DISABLED, TOOLS_ALLOW_DROP_TABLE and per-tool values', () => {
    const policies = toolPolicies(
      loadConfig({
        TOOLS_DISABLED: 'run_sql',
        TOOLS_ALLOW_DROP_TABLE: 'true',
        TOOL_TIMEOUT_MS: '5000,get_schema=100',
        TOOL_RATE_LIMIT_PER_USER: '10/1,create_table=2/60',
      }),
    );
    expect([policies.run_sql.enabled, policies.drop_table.enabled]).toEqual([false, true]);
    expect([policies.get_schema.timeoutMs, policies.list_tables.timeoutMs]).toEqual([100, 5_000]);
    expect(policies.create_table.perUser).toEqual({ points: 2, durationSeconds: 60 });
    expect(() => toolPolicies(loadConfig({ TOOLS_DISABLED: 'rm_rf' }))).toThrow(/unknown tool\(s\) rm_rf/);
  });
});
