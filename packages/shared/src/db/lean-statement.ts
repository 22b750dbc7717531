// A drizzle prepared statement run by node-postgres directly: drizzle renders the SQL and orders the selected fields
// once; each execution only fills the values in and reads the rows. Drizzle's own execute does both generically on
// every call (entity checks per value and per field, a second type-parsing pass), which was a third of a claim's CPU.
import { Column, is, noopDecoder, Param, Placeholder, SQL } from 'drizzle-orm';
import type pg from 'pg';

/** The parts of drizzle's node-postgres prepared query (0.45) that are run here; the rest stays drizzle's. */
interface DrizzlePrepared {
  client: pg.Pool | pg.PoolClient;
  queryString: string;
  params: unknown[];
  fields?: { path: string[]; field: unknown }[];
  rawQueryConfig: { name: string };
  joinsNotNullableMap?: Record<string, boolean>;
  customResultMapper?: unknown;
}

interface Executable<R> {
  execute(values?: Record<string, unknown>): Promise<R>;
}

type Encoder = { mapToDriverValue(value: unknown): unknown };
type Decode = (value: unknown) => unknown;

/** Fills one value of the statement: a constant, a placeholder, or a placeholder through its column's encoder. */
type ValueSource = { constant: unknown } | { name: string; encoder: Encoder | null };

function valueSources(params: unknown[]): ValueSource[] {
  return params.map((param) => {
    if (is(param, Placeholder)) return { name: param.name, encoder: null };
    if (is(param, Param) && is(param.value, Placeholder)) {
      return { name: param.value.name, encoder: param.encoder as Encoder };
    }
    return { constant: param };
  });
}

function fill(sources: ValueSource[], values: Record<string, unknown>): unknown[] {
  return sources.map((source) => {
    if ('constant' in source) return source.constant;
    if (!(source.name in values)) throw new Error(`No value for placeholder "${source.name}" was provided`);
    const value = values[source.name];
    return source.encoder ? source.encoder.mapToDriverValue(value) : value;
  });
}

/** Column types whose values node-postgres's own parsers already give as drizzle would map them. */
const parsedAlike = new Set(['PgText', 'PgJsonb', 'PgReal', 'PgBoolean', 'PgInteger', 'PgNumeric']);

function decoderOf(field: unknown): Decode | null {
  if (is(field, Column)) {
    if (parsedAlike.has(field.columnType)) return null;
    const withTimezone = (field as Column & { withTimezone?: boolean }).withTimezone;
    if (field.columnType === 'PgTimestamp' && withTimezone) return null;
    return (value) => field.mapFromDriverValue(value);
  }
  // An SQL expression's decoder is drizzle-internal: on the expression, or on the one an alias wraps.
  type Decoded = { decoder?: { mapFromDriverValue(value: unknown): unknown } };
  const expression = (is(field, SQL) ? field : (field as { sql?: SQL }).sql) as Decoded | undefined;
  const decoder = expression?.decoder;
  if (!decoder || decoder === noopDecoder) return null;
  return (value) => decoder.mapFromDriverValue(value);
}

/** Builds a row object from an array row: each field at its path, through its decoder (nulls stay null). */
function rowReader(
  fields: { path: string[]; field: unknown }[],
): (row: unknown[]) => Record<string, unknown> {
  const plan = fields.map(({ path, field }) => ({ path, decode: decoderOf(field) }));
  return (row) => {
    const result: Record<string, unknown> = {};
    for (let index = 0; index < plan.length; index += 1) {
      const { path, decode } = plan[index] as (typeof plan)[number];
      const raw = row[index];
      const value = raw === null || decode === null ? raw : decode(raw);
      let node = result;
      for (let depth = 0; depth < path.length - 1; depth += 1) {
        const key = path[depth] as string;
        node[key] ??= {};
        node = node[key] as Record<string, unknown>;
      }
      node[path[path.length - 1] as string] = value;
    }
    return result;
  };
}

/**
 * The statement as drizzle prepared it, run by node-postgres with its own type parsers (timestamps with time zone
 * as dates, JSON parsed). Statements whose rows drizzle reshapes (joined tables that may be missing, relational
 * queries) keep drizzle's execute.
 */
export function leanStatement<R>(statement: Executable<R>): Executable<R> {
  const inner = statement as unknown as DrizzlePrepared;
  // Every table a select reads is in the map; one that may be missing (joined from the left) is false in it.
  const mayMissTable = Object.values(inner.joinsNotNullableMap ?? {}).some((isNotNullable) => !isNotNullable);
  const reshapes = Boolean(inner.customResultMapper) || mayMissTable;
  if (reshapes) return statement;
  const sources = valueSources(inner.params);
  const readRow = inner.fields ? rowReader(inner.fields) : null;
  const name = inner.rawQueryConfig.name;
  const text = inner.queryString;
  return {
    async execute(values = {}) {
      const config = { name, text, values: fill(sources, values), rowMode: 'array' as const };
      const result = await inner.client.query<unknown[]>(config);
      return (readRow ? result.rows.map(readRow) : result) as R;
    },
  };
}
