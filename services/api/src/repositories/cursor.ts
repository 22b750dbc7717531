// Opaque cursors for lists ordered by a time and then an id, newest first.
import { ApiError } from '@threadwork/shared';
import { and, eq, lt, or, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { z } from 'zod';

export interface CursorPosition {
  at: Date;
  id: string;
}

const position = z.tuple([z.number().int().nonnegative(), z.string().min(1).max(100)]);

export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.getTime(), id])).toString('base64url');
}

export function decodeCursor(cursor: string): CursorPosition {
  try {
    const [millis, id] = position.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return { at: new Date(millis), id };
  } catch {
    throw new ApiError(400, `Invalid 'cursor': '${cursor}' is not a cursor this list gave out.`, {
      param: 'cursor',
      code: 'invalid_value',
    });
  }
}

/** The rows after the cursor in (at, id) descending order; no condition without a cursor. */
export function olderThanCursor(at: PgColumn, id: PgColumn, cursor: string | undefined): SQL | undefined {
  if (!cursor) return undefined;
  const after = decodeCursor(cursor);
  return or(lt(at, after.at), and(eq(at, after.at), lt(id, after.id)));
}

export interface CursorPage<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

/** A page from rows read with limit + 1: the extra row only says that there is more. */
export function toCursorPage<R, T>(
  rows: R[],
  limit: number,
  position: (row: R) => CursorPosition,
  toItem: (row: R) => T,
): CursorPage<T> {
  const page = rows.slice(0, limit);
  const last = rows.length > limit ? page.at(-1) : undefined;
  const next = last === undefined ? null : position(last);
  return {
    object: 'list',
    data: page.map(toItem),
    has_more: next !== null,
    next_cursor: next && encodeCursor(next.at, next.id),
  };
}
