// Schemas of the webhook endpoints (docs/webhooks.md): the registration request and the answers.
import { webhookEventTypeSchema, webhookEventTypes } from '@threadwork/shared';
import { z } from 'zod';
import type { CreatedWebhook, WebhookDeliveryObject, WebhookObject } from '../services/webhooks.js';

export const createWebhookSchema = z.strictObject({
  url: z.string().min(1).max(2048).describe('An http(s) URL on a public address.'),
  events: z
    .array(webhookEventTypeSchema)
    .min(1)
    .max(webhookEventTypes.length)
    .refine((events) => new Set(events).size === events.length, 'Each event may be listed once.')
    .default([...webhookEventTypes])
    .describe('The run events sent to this endpoint; all of them when left out.'),
});

export type CreateWebhookInput = z.infer<typeof createWebhookSchema>;

const webhookFields = {
  id: z.string(),
  object: z.literal('webhook_endpoint'),
  url: z.string(),
  events: z.array(webhookEventTypeSchema),
  created_at: z.number().int(),
};

export const createdWebhookSchema = z.object({
  ...webhookFields,
  secret: z.string().describe('The signing secret (whsec_…, Standard Webhooks): shown only in this answer.'),
}) satisfies z.ZodType<CreatedWebhook>;

export const webhookSchema = z.object({
  ...webhookFields,
  status: z.enum(['enabled', 'disabled']),
  disabled_at: z.number().int().nullable(),
  disabled_reason: z.string().nullable(),
  consecutive_failures: z.number().int(),
}) satisfies z.ZodType<WebhookObject>;

export const webhookListSchema = z.object({ object: z.literal('list'), data: z.array(webhookSchema) });

export const webhookDeliverySchema = z.object({
  id: z.number().int(),
  object: z.literal('webhook_delivery'),
  message_id: z.string().describe('The `webhook-id` header: the same on every attempt of a message.'),
  type: webhookEventTypeSchema,
  run_id: z.string(),
  attempt: z.number().int().describe('1 for the first try, 2 for the first retry, …'),
  status_code: z.number().int().nullable().describe('The receiver’s answer; null when none came.'),
  duration_ms: z.number().int(),
  error: z.string().nullable(),
  next_retry_at: z
    .number()
    .int()
    .nullable()
    .describe('When the message is tried again; null when it will not be.'),
  created_at: z.number().int(),
}) satisfies z.ZodType<WebhookDeliveryObject>;

export const webhookDeliveryListSchema = z.object({
  object: z.literal('list'),
  data: z.array(webhookDeliverySchema),
});

export const deliveriesQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
