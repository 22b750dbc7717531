// Schemas of the usage reports (GET /v1/usage for the caller's project, GET /admin/usage across projects).
import { z } from 'zod';
import type { UsageReport } from '../services/usage.js';
import { responseObjects } from './objects.js';

const usageDimensions = ['day', 'model', 'project'] as const;
export type UsageDimension = (typeof usageDimensions)[number];

const unixSeconds = z.coerce.number().int().min(0).max(253_402_300_799);

export const usageQuerySchema = z.object({
  /** Unix seconds; calls at or after it. */
  start_time: unixSeconds.optional(),
  /** Unix seconds; calls before it. */
  end_time: unixSeconds.optional(),
  /** Comma separated: day, model, project. */
  group_by: z
    .string()
    .default('day,model')
    .transform((value) => [
      ...new Set(
        value
          .split(',')
          .map((part) => part.trim())
          .filter(Boolean),
      ),
    ])
    .pipe(z.array(z.enum(usageDimensions))),
});

/** The admin report may narrow to one project. */
export const adminUsageQuerySchema = usageQuerySchema.extend({ project_id: z.string().min(1).optional() });

const usageTotalsSchema = z.object({
  calls: z.number().int(),
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
  cost_usd: z.number(),
});

export const usageReportSchema = z
  .object({
    object: z.literal('usage_report'),
    group_by: z.array(z.enum(usageDimensions)),
    start_time: z.number().int().nullable(),
    end_time: z.number().int().nullable(),
    data: z.array(
      usageTotalsSchema.extend({
        day: z.string().optional().describe('YYYY-MM-DD (UTC)'),
        model: z.string().optional(),
        project_id: z.string().optional(),
      }),
    ),
    totals: usageTotalsSchema,
  })
  .register(responseObjects, { id: 'UsageReport' }) satisfies z.ZodType<UsageReport>;
