// Statements run on every request or turn, built once per database client: drizzle renders their SQL once and
// Postgres parses and plans it once per connection; what varies is passed as placeholder values.
import { getTableColumns, SQL, sql } from 'drizzle-orm';
import type { PgInsertValue, PgTable } from 'drizzle-orm/pg-core';
import type { Db } from './client.js';
import { leanStatement } from './lean-statement.js';

interface Statement<R> {
  execute(values?: Record<string, unknown>): Promise<R>;
}

const preparedByClient = new WeakMap<Db, Map<string, Statement<unknown>>>();

/**
 * The statement prepared on `db` for `key` (its name and shape), built by `build` the first time (a drizzle
 * prepared query, run by node-postgres directly: see lean-statement.ts).
 */
export function prepared<R>(db: Db, key: string, build: (name: string) => Statement<R>): Statement<R> {
  let statements = preparedByClient.get(db);
  if (!statements) {
    statements = new Map();
    preparedByClient.set(db, statements);
  }
  const known = statements.get(key);
  if (known) return known as Statement<R>;
  const statement = leanStatement(build(`tw_${statements.size}_${key.replace(/\W+/g, '_').slice(0, 40)}`));
  statements.set(key, statement as Statement<unknown>);
  return statement;
}

/** Values as a prepared statement takes them: the SQL per column, the placeholder values, and their shape. */
export interface SlottedValues<T extends PgTable> {
  /**
   * A row for `insert().values()` (or a patch for `update().set()`) whose values are placeholders or nulls: built when
   * read, which only a statement's first preparation does.
   */
  readonly columns: PgInsertValue<T>;
  values: Record<string, unknown>;
  /** Which columns are given and which of them are null: statements of one shape are one prepared statement. */
  shape: string;
}

const placeholderName = (name: string, column: string) => `${name}_${column}`;

/** The row's columns as placeholders filled through their columns' encoders, nulls as literals. */
function slotColumns<T extends PgTable>(table: T, name: string, row: object): PgInsertValue<T> {
  const tableColumns = getTableColumns(table);
  const columns: Record<string, SQL | null> = {};
  for (const [column, value] of Object.entries(row)) {
    if (value === undefined) continue;
    columns[column] =
      value === null
        ? null
        : sql`${sql.param(sql.placeholder(placeholderName(name, column)), tableColumns[column])}`;
  }
  return columns as PgInsertValue<T>;
}

/**
 * Each value becomes a placeholder `<name>_<column>` filled through its column's encoder. Nulls stay literal (the
 * encoder would store null as the JSON value `null` in a JSON column), so they are part of the shape.
 */
export function slotted<T extends PgTable>(table: T, name: string, row: object): SlottedValues<T> {
  const values: Record<string, unknown> = {};
  const shape: string[] = [];
  for (const [column, value] of Object.entries(row)) {
    if (value === undefined) continue;
    if (value === null) {
      shape.push(`${column}=null`);
      continue;
    }
    if (value instanceof SQL) throw new Error(`${name}.${column}: an SQL expression cannot be a placeholder`);
    values[placeholderName(name, column)] = value;
    shape.push(column);
  }
  return {
    get columns() {
      return slotColumns(table, name, row);
    },
    values,
    shape: `${name}(${shape.join(',')})`,
  };
}
