// Request and response schemas of /v1/files.
import { filePurposes, uploadPurposes } from '@threadwork/shared/files/file-purposes';
import { z } from 'zod';
import { responseObjects } from './objects.js';

const unixTime = z.number().int().describe('Unix time in seconds');

/** The multipart form of an upload (documented; the handler streams the form itself). */
export const uploadFormSchema = z.object({
  file: z.string().describe('The file (binary)'),
  purpose: z.enum(uploadPurposes),
  'expires_after[anchor]': z.literal('created_at').optional(),
  'expires_after[seconds]': z.coerce.number().int().min(3600).max(2_592_000).optional(),
});

export const listFilesQuerySchema = z.object({
  purpose: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(10_000),
  order: z.enum(['asc', 'desc']).default('desc'),
  after: z.string().min(1).optional(),
});

export type ListFilesQuery = z.infer<typeof listFilesQuerySchema>;

export const fileObjectSchema = z
  .object({
    id: z.string(),
    object: z.literal('file'),
    bytes: z.number().int(),
    created_at: unixTime,
    expires_at: unixTime.nullable(),
    filename: z.string(),
    purpose: z.enum(filePurposes),
    status: z.literal('processed'),
    status_details: z.null(),
  })
  .register(responseObjects, { id: 'FileObject' });

export type FileObject = z.infer<typeof fileObjectSchema>;
