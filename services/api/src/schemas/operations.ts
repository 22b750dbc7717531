// Answers of the operations endpoints that are JSON: liveness and readiness.
import { z } from 'zod';

export const livenessSchema = z.object({ status: z.literal('ok') });

export const readinessSchema = z.object({ status: z.enum(['ready', 'unavailable']) });
