// Per-tool policy from configuration: enabled or not, timeout, and rate limits per user and per tool.
import {
  type BuiltinToolType,
  builtinToolTypes,
  type Config,
  ConfigError,
  isBuiltinToolType,
} from '@threadwork/shared';
import type { Rate } from '@threadwork/shared/rate-budgets';

export type { Rate };

export interface ToolPolicy {
  enabled: boolean;
  timeoutMs: number;
  perUser: Rate;
  global: Rate;
}

export type ToolPolicies = Record<BuiltinToolType, ToolPolicy>;

/** Reads a "<default>,<tool>=<value>" list: entries without a tool name set the default for every tool. */
export function perToolValues<T>(
  variable: string,
  entries: readonly string[],
  parse: (text: string) => T,
): (tool: BuiltinToolType) => T {
  let fallback: T | undefined;
  const overrides = new Map<string, T>();
  for (const entry of entries) {
    const [tool, value] = entry.includes('=') ? entry.split('=', 2) : [undefined, entry];
    if (tool === undefined) {
      fallback = parse(value ?? '');
      continue;
    }
    if (!isBuiltinToolType(tool))
      throw new ConfigError(`Invalid configuration: ${variable}: unknown tool '${tool}'`);
    overrides.set(tool, parse(value ?? ''));
  }
  return (tool) => {
    const value = overrides.get(tool) ?? fallback;
    if (value === undefined)
      throw new ConfigError(`Invalid configuration: ${variable}: no value for '${tool}'`);
    return value;
  };
}

function parseRate(variable: string) {
  return (text: string): Rate => {
    const [points, seconds] = text.split('/').map(Number);
    if (!points || !seconds)
      throw new ConfigError(`Invalid configuration: ${variable}: '${text}' is not points/seconds`);
    return { points, durationSeconds: seconds };
  };
}

function parseMilliseconds(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0)
    throw new ConfigError(`Invalid configuration: TOOL_TIMEOUT_MS: '${text}'`);
  return value;
}

export function toolPolicies(config: Config): ToolPolicies {
  const unknown = config.TOOLS_DISABLED.filter((tool) => !isBuiltinToolType(tool));
  if (unknown.length > 0)
    throw new ConfigError(`Invalid configuration: TOOLS_DISABLED: unknown tool(s) ${unknown.join(', ')}`);
  const timeout = perToolValues('TOOL_TIMEOUT_MS', config.TOOL_TIMEOUT_MS, parseMilliseconds);
  const perUser = perToolValues(
    'TOOL_RATE_LIMIT_PER_USER',
    config.TOOL_RATE_LIMIT_PER_USER,
    parseRate('TOOL_RATE_LIMIT_PER_USER'),
  );
  const global = perToolValues(
    'TOOL_RATE_LIMIT_GLOBAL',
    config.TOOL_RATE_LIMIT_GLOBAL,
    parseRate('TOOL_RATE_LIMIT_GLOBAL'),
  );
  const entries = builtinToolTypes.map((tool): [BuiltinToolType, ToolPolicy] => {
    const allowed = tool !== 'drop_table' || config.TOOLS_ALLOW_DROP_TABLE;
    const policy = {
      enabled: allowed && !config.TOOLS_DISABLED.includes(tool),
      timeoutMs: timeout(tool),
      perUser: perUser(tool),
      global: global(tool),
    };
    return [tool, policy];
  });
  return Object.fromEntries(entries) as ToolPolicies;
}
