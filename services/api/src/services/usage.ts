// Usage reports: tokens, calls and cost from usage_logs, by day, model and project, with totals. A project sees its own.
import type { Db } from '@threadwork/shared';
import type { Principal } from '../auth.js';
import { sumUsage, type UsageGroup } from '../repositories/usage-logs.js';
import type { UsageDimension } from '../schemas/usage.js';

interface UsageTotals {
  calls: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost_usd: number;
}

export interface UsageReport {
  object: 'usage_report';
  group_by: UsageDimension[];
  start_time: number | null;
  end_time: number | null;
  data: (UsageTotals & { day?: string; model?: string; project_id?: string })[];
  totals: UsageTotals;
}

export interface UsageQuery {
  start_time?: number | undefined;
  end_time?: number | undefined;
  group_by: UsageDimension[];
  project_id?: string | undefined;
}

function totalsOf(group: UsageGroup): UsageTotals {
  return {
    calls: group.calls,
    prompt_tokens: group.promptTokens,
    completion_tokens: group.completionTokens,
    total_tokens: group.totalTokens,
    cost_usd: group.costUsd,
  };
}

const seconds = (value: number | undefined) => (value === undefined ? undefined : new Date(value * 1000));

/**
 * The report for a caller: a deployment admin's covers every project (or `project_id`'s: usage is recorded by project,
 * the owner of every row); anyone else's only their own project.
 */
export async function usageReport(db: Db, principal: Principal, query: UsageQuery): Promise<UsageReport> {
  const ownerId = principal.isDeploymentAdmin ? query.project_id : principal.projectId;
  const filter = { ownerId, from: seconds(query.start_time), to: seconds(query.end_time) };
  const by = {
    day: query.group_by.includes('day'),
    model: query.group_by.includes('model'),
    project: query.group_by.includes('project'),
  };
  const [groups, [total]] = await Promise.all([
    sumUsage(db, filter, by),
    sumUsage(db, filter, { day: false, model: false, project: false }),
  ]);
  return {
    object: 'usage_report',
    group_by: query.group_by,
    start_time: query.start_time ?? null,
    end_time: query.end_time ?? null,
    data: groups.map((group) => ({
      ...(group.day === undefined ? {} : { day: group.day }),
      ...(group.model === undefined ? {} : { model: group.model }),
      ...(group.projectId === undefined ? {} : { project_id: group.projectId }),
      ...totalsOf(group),
    })),
    totals: total
      ? totalsOf(total)
      : { calls: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cost_usd: 0 },
  };
}
