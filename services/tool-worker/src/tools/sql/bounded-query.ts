// Bounds a query's result inside Postgres, before any of it is sent: every value cut to MAX_CELL_CHARS, and the rows
// past a byte budget sent empty. The worker then receives about the budget, whatever the query computes.

/** A single value longer than this is cut, so that one huge cell cannot take the whole result budget. */
export const MAX_CELL_CHARS = 2_000;

/** Postgres allows 1,664 result columns; the bounded form adds two (the cut values and whether the row fits). */
export const MAX_COLUMNS = 1_662;

/** Gives the query's columns without reading a row (it is still planned, so the statement timeout applies). */
export function describeStatement(query: string): string {
  return `select * from (\n${query}\n) as q limit 0`;
}

/**
 * The query wrapped so that Postgres itself bounds what it sends. Its columns, in order: the query's columns by
 * position (a value longer than MAX_CELL_CHARS is null there), `cuts` (null, or a json array holding, at the
 * position of each long value, its first MAX_CELL_CHARS characters and how many more there were) and `fits`
 * (false from the first row whose running size passes `maxBytes`; such rows are sent with every column null).
 *
 * `offset 0` keeps Postgres from merging the levels, which would evaluate the query's expressions once per use.
 * The window has no ORDER BY, so it neither sorts nor waits for the last row: rows stream in the query's order.
 */
export function boundedStatement(query: string, columnCount: number, maxBytes: number): string {
  const columns = Array.from({ length: columnCount }, (_, index) => `c${index + 1}`);
  const text = (column: string) => `q.${column}::text`;
  const isLong = (column: string) =>
    `char_length(left(${text(column)}, ${MAX_CELL_CHARS + 1})) > ${MAX_CELL_CHARS}`;
  const value = (column: string) => `case when not ${isLong(column)} then q.${column} end as ${column}`;
  const cut = (column: string) =>
    `case when ${isLong(column)} then left(${text(column)}, ${MAX_CELL_CHARS}) || '… [' || ` +
    `(char_length(${text(column)}) - ${MAX_CELL_CHARS}) || ' more characters]' end`;
  // A null is sent as a length of -1 and read as JSON `null`: count it as four bytes.
  const size = (column: string) => `coalesce(octet_length(left(${text(column)}, ${MAX_CELL_CHARS})), 4) + 1`;
  const measured =
    `select ${columns.map(value).join(', ')}, ` +
    `case when ${columns.map(isLong).join(' or ')} then to_json(array[${columns.map(cut).join(', ')}]) end as cuts, ` +
    `${columns.map(size).join(' + ')} as size ` +
    `from (select * from (\n${query}\n) as q0 offset 0) as q(${columns.join(', ')}) offset 0`;
  const counted =
    `select ${columns.map((column) => `m.${column}`).join(', ')}, m.cuts, ` +
    `sum(m.size) over (rows between unbounded preceding and current row) <= ${maxBytes} as fits ` +
    `from (${measured}) as m`;
  const kept = [...columns, 'cuts'].map((column) => `case when b.fits then b.${column} end`);
  return `select ${kept.join(', ')}, b.fits from (${counted}) as b`;
}

export interface BoundedRow {
  cells: unknown[];
  /** Whether a value of the row was cut. */
  isCut: boolean;
}

/** A row of boundedStatement as the query's cells, or null for a row past the budget. */
export function readBoundedRow(raw: unknown[], columnCount: number): BoundedRow | null {
  if (raw[columnCount + 1] !== true) return null;
  const cells = raw.slice(0, columnCount);
  const cuts = raw[columnCount] as Array<string | null> | null;
  if (!cuts) return { cells, isCut: false };
  return { cells: cells.map((cell, index) => cuts[index] ?? cell), isCut: true };
}
