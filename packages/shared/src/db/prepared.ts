// Statements of the run path prepared once per database handle, with drizzle's own `prepare` and placeholders.
import { getTableColumns, type SQL, sql, type Table } from 'drizzle-orm';
import type { Db } from './client.js';

const namesKept = new WeakMap<Db, boolean>();

/**
 * Whether the handle's prepared statements are named, so that Postgres parses and plans each once per connection
 * (`DATABASE_PREPARED_STATEMENTS`, on by default). A pooler in transaction mode that does not carry named statements
 * between transactions (pgbouncer before 1.21) needs them off: they are then sent unnamed, built once all the same.
 */
export function keepStatementNames(db: Db, named: boolean): void {
  namesKept.set(db, named);
}

/**
 * A statement built once per handle (`build` gets the name to pass to drizzle's `prepare`, empty when unnamed);
 * the returned function answers the handle's statement.
 */
export function preparedStatement<T>(name: string, build: (db: Db, name: string) => T): (db: Db) => T {
  const built = new WeakMap<Db, T>();
  return (db) => {
    let statement = built.get(db);
    if (statement === undefined) {
      statement = build(db, namesKept.get(db) === false ? '' : `threadwork_${name}`);
      built.set(db, statement);
    }
    return statement;
  };
}

/**
 * A placeholder of a prepared statement whose value is given as the driver sends it: drizzle does not encode it as
 * its column would (`asJson` for a json column; a Date or a string for a timestamp).
 */
export const slot = (name: string) => sql`${sql.placeholder(name)}`;

/** A json column's value as the driver sends it; null stays SQL null. */
export const asJson = (value: unknown) =>
  value === null || value === undefined ? null : JSON.stringify(value);

/**
 * A placeholder for each of the table's columns, named `<prefix>.<column>`: the values of a prepared insert of one
 * whole row. `rowValues` answers what fills them, encoded as each column encodes its values.
 */
export function rowPlaceholders<T extends Table>(table: T, prefix: string) {
  const keys = Object.keys(getTableColumns(table));
  return Object.fromEntries(keys.map((key) => [key, slot(`${prefix}.${key}`)])) as {
    [K in keyof T['$inferInsert']]: SQL;
  };
}

/**
 * Writes the values of `rowPlaceholders(table, prefix)` for one whole row of the table (a null stays null) into
 * `values`, and answers it: a statement's values go into one object, never spread from several (copying objects of
 * this many keys for every request left V8 holding 110 MB more heap after the SSE bench; docs/performance.md).
 */
export function rowValues<T extends Table>(
  table: T,
  prefix: string,
  row: T['$inferSelect'],
  values: Record<string, unknown> = {},
): Record<string, unknown> {
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    const value: unknown = row[key as keyof typeof row];
    values[`${prefix}.${key}`] = value === null ? null : column.mapToDriverValue(value);
  }
  return values;
}

/**
 * Rows of a table given as one JSON array in the placeholder `name`, to select from (`select * from ...`): a
 * prepared insert of any number of rows. Its columns are the table's, in the table's order, as an insert of the
 * table lists them; each row carries every column (one left out is null, not its default).
 */
export function recordset(table: Table, name: string): SQL {
  const columns = Object.values(getTableColumns(table)).map(
    (column) => sql`${sql.identifier(column.name)} ${sql.raw(column.getSQLType())}`,
  );
  return sql`jsonb_to_recordset(${sql.placeholder(name)}::jsonb) as ${sql.identifier(name)}(${sql.join(columns, sql`, `)})`;
}

/** The value of a `recordset` placeholder: the rows, each under its columns' names. */
export function recordsetValue<T extends Table>(table: T, rows: T['$inferSelect'][]): string {
  const columns = Object.entries(getTableColumns(table));
  return JSON.stringify(
    rows.map((row) =>
      Object.fromEntries(columns.map(([key, column]) => [column.name, row[key as keyof typeof row]])),
    ),
  );
}

/**
 * A row of the table from its JSON rendering in Postgres (`row_to_json`, or a row inside `json_agg`): each column
 * read under its name and decoded as the column decodes what the driver gives it.
 */
export function rowFromJson<T extends Table>(table: T, json: Record<string, unknown>): T['$inferSelect'] {
  const row: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    const value = json[column.name] ?? null;
    row[key] = value === null ? null : column.mapFromDriverValue(value);
  }
  return row as T['$inferSelect'];
}
