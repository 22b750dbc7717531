// Data access for listing files: the owner (and the purpose asked for) in every where, expired files left out.
import { type Db, schema } from '@threadwork/shared';
import type { FileRow } from '@threadwork/shared/files/file-store';
import { and, eq, gt, isNull, or, sql } from 'drizzle-orm';
import type { ListFilesQuery } from '../schemas/files.js';
import { pageQuery } from './pagination.js';

const { files } = schema;

/** One page plus one row (the extra row only tells that there is more). */
export function listFileRows(db: Db, ownerId: string, query: ListFilesQuery): Promise<FileRow[]> {
  const scope = and(
    eq(files.ownerId, ownerId),
    query.purpose === undefined ? undefined : eq(files.purpose, query.purpose as FileRow['purpose']),
    or(isNull(files.expiresAt), gt(files.expiresAt, sql`now()`)),
  );
  const page = pageQuery(files.id, { ...query, before: undefined }, scope);
  return db.select().from(files).where(page.where).orderBy(page.orderBy).limit(page.limit);
}
