// Answers of the operations endpoints that are JSON: liveness, readiness and the chat clients' health report.
import { z } from 'zod';

export const livenessSchema = z.object({ status: z.literal('ok') });

export const readinessSchema = z.object({ status: z.enum(['ready', 'unavailable']) });

const probedSchema = z.object({ configured: z.literal(true), reachable: z.boolean() });

/** `GET /api/health`: the overall status and, per dependency, whether it is configured and answers (no secrets). */
export const apiHealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    dependencies: z.object({
      postgres: probedSchema,
      redis: probedSchema,
      openai: z.object({ configured: z.boolean() }),
      model_providers: z.object({ configured: z.array(z.string()).describe('Names from MODEL_PROVIDERS') }),
    }),
    default_model: z.string(),
  })
  .describe('Liveness of the API and its dependencies');

export type ApiHealth = z.infer<typeof apiHealthSchema>;
