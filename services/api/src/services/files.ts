// Files: upload (streamed into the file store), list, retrieve, content and delete, all within the caller's project.
import { pipeline } from 'node:stream/promises';
import { ApiError, notFound } from '@threadwork/shared';
import { type FilePurpose, isUploadPurpose, uploadPurposes } from '@threadwork/shared/files/file-purposes';
import {
  deleteFile,
  type FileRow,
  FileTooLargeError,
  findFile,
  readFileStream,
  saveFile,
} from '@threadwork/shared/files/file-store';
import type { Request, Response } from 'express';
import type { Principal } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { receiveUpload } from '../multipart-upload.js';
import { listFileRows } from '../repositories/files.js';
import { toPage } from '../repositories/pagination.js';
import type { FileObject, ListFilesQuery } from '../schemas/files.js';

/** Room for the form around the file (boundaries, part headers, the other fields). */
const FORM_OVERHEAD_BYTES = 64 * 1024;
const MAX_FILENAME_CHARS = 512;

export function toFileObject(row: FileRow): FileObject {
  return {
    id: row.id,
    object: 'file',
    bytes: row.bytes,
    created_at: Math.floor(row.createdAt.getTime() / 1000),
    expires_at: row.expiresAt === null ? null : Math.floor(row.expiresAt.getTime() / 1000),
    filename: row.filename,
    purpose: row.purpose,
    status: 'processed',
    status_details: null,
  };
}

function tooLarge(limitBytes: number): ApiError {
  return new ApiError(413, `File too large: files of at most ${limitBytes} bytes are accepted.`, {
    param: 'file',
    code: 'file_too_large',
  });
}

function toUploadError(error: unknown): unknown {
  if (!(error instanceof FileTooLargeError)) return error;
  if (error.limit === 'file_size') return tooLarge(error.limitBytes);
  return new ApiError(
    400,
    `This upload would take the project's files past their quota of ${error.limitBytes} bytes; delete files to make room.`,
    { param: 'file', code: 'quota_exceeded' },
  );
}

function purposeOf(fields: Record<string, string>): FilePurpose {
  const purpose = fields.purpose;
  if (purpose === undefined)
    throw new ApiError(400, "Missing required parameter: 'purpose'.", { param: 'purpose' });
  if (!isUploadPurpose(purpose)) {
    throw new ApiError(
      400,
      `Invalid value for 'purpose': '${purpose}'. Supported values are: ${uploadPurposes.map((value) => `'${value}'`).join(', ')}.`,
      { param: 'purpose', code: 'invalid_value' },
    );
  }
  return purpose;
}

/** `expires_after[anchor]=created_at` and `expires_after[seconds]` (an hour to 30 days), as the SDK sends them. */
function expiryOf(fields: Record<string, string>): Date | null {
  const seconds = fields['expires_after[seconds]'];
  if (seconds === undefined) return null;
  const value = Number(seconds);
  if (!Number.isInteger(value) || value < 3600 || value > 2_592_000) {
    throw new ApiError(400, "Invalid 'expires_after.seconds': expected an integer from 3600 to 2592000.", {
      param: 'expires_after.seconds',
      code: 'invalid_value',
    });
  }
  return new Date(Date.now() + value * 1000);
}

function filenameOf(name: string): string {
  const base = name.split(/[\\/]/).at(-1)?.replaceAll('\0', '') ?? '';
  if (base.length === 0)
    throw new ApiError(400, 'The file part of the form has no filename.', { param: 'file' });
  return base.slice(0, MAX_FILENAME_CHARS);
}

export async function uploadFile(deps: AppDeps, principal: Principal, req: Request): Promise<FileRow> {
  const maxBytes = deps.config.FILE_MAX_BYTES;
  if (Number(req.headers['content-length']) > maxBytes + FORM_OVERHEAD_BYTES) throw tooLarge(maxBytes);
  try {
    return await receiveUpload(
      req,
      ({ content, filename, fields }) => {
        const details = fields.then((values) => ({
          purpose: purposeOf(values),
          expiresAt: expiryOf(values),
        }));
        // saveFile awaits the details once the bytes are in; a file refused before then never reads them.
        details.catch(() => {});
        return saveFile(deps.db, {
          ownerId: principal.projectId,
          filename: filenameOf(filename),
          details,
          content,
          maxBytes,
          quotaBytes: deps.config.FILES_PROJECT_QUOTA_BYTES,
        });
      },
      maxBytes + FORM_OVERHEAD_BYTES,
    );
  } catch (error) {
    throw toUploadError(error);
  }
}

export async function listFiles(deps: AppDeps, principal: Principal, query: ListFilesQuery) {
  const rows = await listFileRows(deps.db, principal.projectId, query);
  return toPage(rows.map(toFileObject), { ...query, before: undefined });
}

export async function retrieveFile(deps: AppDeps, principal: Principal, fileId: string): Promise<FileRow> {
  const row = await findFile(deps.db, { ownerId: principal.projectId, fileId });
  if (!row) throw notFound('file', fileId);
  return row;
}

/** Streams the bytes, a part at a time. */
export async function sendFileContent(deps: AppDeps, principal: Principal, fileId: string, res: Response) {
  const row = await retrieveFile(deps, principal, fileId);
  res.set('content-type', 'application/octet-stream');
  res.set('content-length', String(row.bytes));
  res.set('content-disposition', `attachment; filename="${encodeURIComponent(row.filename)}"`);
  await pipeline(readFileStream(deps.db, row), res);
}

export async function removeFile(deps: AppDeps, principal: Principal, fileId: string): Promise<void> {
  const deleted = await deleteFile(deps.db, { ownerId: principal.projectId, fileId });
  if (!deleted) throw notFound('file', fileId);
}
