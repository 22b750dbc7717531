// Statements of every turn, built once per database client: drizzle renders their SQL once and Postgres parses it
// once per connection; what varies between turns is passed as placeholder values.
import type { Db } from '@threadwork/shared';
import { getTableColumns, is, SQL, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';

const preparedByClient = new WeakMap<Db, Map<string, unknown>>();

/** The statement prepared on `db` for `key` (its name and shape), built by `build` the first time. */
export function prepared<T>(db: Db, key: string, build: (name: string) => T): T {
  let statements = preparedByClient.get(db);
  if (!statements) {
    statements = new Map();
    preparedByClient.set(db, statements);
  }
  if (statements.has(key)) return statements.get(key) as T;
  const statement = build(`run_worker_${statements.size}`);
  statements.set(key, statement);
  return statement;
}

/** A patch as a prepared statement takes it: the SET clause, the placeholder values, and its shape. */
export interface SlottedPatch {
  set: Record<string, SQL | null>;
  values: Record<string, unknown>;
  /** Which columns it sets and which of them to null: statements of one shape are one prepared statement. */
  shape: string;
}

/**
 * Each value of `patch` becomes a placeholder `<name>_<column>` filled through its column's encoder. Nulls stay
 * literal (the encoder would store null as the JSON value `null` in a JSON column), so they are part of the shape.
 */
export function slotted(table: PgTable, name: string, patch: object): SlottedPatch {
  const columns = getTableColumns(table);
  const set: Record<string, SQL | null> = {};
  const values: Record<string, unknown> = {};
  const shape: string[] = [];
  for (const [column, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (is(value, SQL)) throw new Error(`${name}.${column}: an SQL expression cannot be a placeholder`);
    if (value === null) {
      set[column] = null;
      shape.push(`${column}=null`);
      continue;
    }
    const placeholder = `${name}_${column}`;
    set[column] = sql`${sql.param(sql.placeholder(placeholder), columns[column])}`;
    values[placeholder] = value;
    shape.push(column);
  }
  return { set, values, shape: `${name}(${shape.join(',')})` };
}
