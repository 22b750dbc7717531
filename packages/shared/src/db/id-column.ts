// The column type of every id and id reference.
import { customType } from 'drizzle-orm/pg-core';

/** Ids sort byte-wise ("C" collation) so that their time-ordered encoding is the list order. */
export const id = customType<{ data: string }>({ dataType: () => 'text collate "C"' });
