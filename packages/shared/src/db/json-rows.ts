// Rows that a statement answers inside a JSON value (json_agg of a table's rows), mapped as drizzle maps selected
// rows: one statement can then answer a row and the rows that go with it.
import { type Column, getTableColumns, type InferSelectModel } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';

/** A row as `json_agg` gives it: column names, JSON values. */
export type JsonRow = Record<string, unknown>;

/** Each table's columns as [key, column] pairs, listed once: a claim maps its rows on every run. */
const columnsByTable = new WeakMap<PgTable, [string, Column][]>();

function columnsOf(table: PgTable): [string, Column][] {
  let columns = columnsByTable.get(table);
  if (!columns) {
    columns = Object.entries(getTableColumns(table));
    columnsByTable.set(table, columns);
  }
  return columns;
}

/** Rows of `table` as `json_agg` gives them, each value through its column's decoder (timestamps become dates). */
export function rowsFromJson<T extends PgTable>(table: T, rows: JsonRow[]): InferSelectModel<T>[] {
  const columns = columnsOf(table);
  return rows.map(
    (row) =>
      Object.fromEntries(
        columns.map(([key, column]) => {
          const value = row[column.name];
          return [key, value === null || value === undefined ? null : column.mapFromDriverValue(value)];
        }),
      ) as InferSelectModel<T>,
  );
}
