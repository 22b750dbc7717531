// run_sql: one guarded read-only statement, executed as the read-only login in a READ ONLY transaction with caps.
import pg from 'pg';
import Cursor from 'pg-cursor';
import { ToolError } from '../../tool-error.js';
import type { ToolArgs, ToolCallContext } from '../registry.js';
import type { SqlLimits, SqlToolDeps } from './sql-deps.js';
import { checkReadOnlyQuery } from './sql-guard.js';

/** A single value longer than this is cut, so that one huge cell cannot take the whole result budget. */
const MAX_CELL_CHARS = 2_000;

/** Types whose JSON form is native (numbers that fit a double, booleans, json); every other value stays as text. */
const nativeTypeOids = new Set([16, 20, 21, 23, 26, 114, 700, 701, 3802]);
const BIGINT_OID = 20;

const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === BIGINT_OID)
      return (value: string) => (Number.isSafeInteger(Number(value)) ? Number(value) : value);
    if (nativeTypeOids.has(oid)) return pg.types.getTypeParser(oid, format ?? 'text');
    return (value: string) => value;
  },
} as pg.CustomTypesConfig;

export interface RunSqlResult {
  columns: Array<{ name: string; type: string }>;
  rows: unknown[][];
  row_count: number;
  truncated: boolean;
  note?: string;
}

const connectionErrorCodes = new Set(['28P01', '28000', '3D000', '42501', 'ECONNREFUSED', 'ENOTFOUND']);

function capCell(value: unknown): { value: unknown; cut: boolean } {
  const text =
    typeof value === 'string'
      ? value
      : value !== null && typeof value === 'object'
        ? JSON.stringify(value)
        : null;
  if (text === null || text.length <= MAX_CELL_CHARS) return { value, cut: false };
  return {
    value: `${text.slice(0, MAX_CELL_CHARS)}… [${text.length - MAX_CELL_CHARS} more characters]`,
    cut: true,
  };
}

/** Keeps rows while they fit the row and byte caps, and says in `note` what was left out. */
function capRows(fetched: unknown[][], limits: Pick<SqlLimits, 'maxRows' | 'maxResultBytes'>) {
  const rows: unknown[][] = [];
  let bytes = 0;
  let cellsCut = false;
  let sizeCapped = false;
  for (const raw of fetched.slice(0, limits.maxRows)) {
    const cells = raw.map(capCell);
    cellsCut ||= cells.some((cell) => cell.cut);
    const row = cells.map((cell) => cell.value);
    bytes += Buffer.byteLength(JSON.stringify(row)) + 1;
    if (bytes > limits.maxResultBytes) {
      sizeCapped = true;
      break;
    }
    rows.push(row);
  }
  const rowCapped = !sizeCapped && fetched.length > limits.maxRows;
  const notes: string[] = [];
  if (rowCapped)
    notes.push(
      `The query returned more than ${limits.maxRows} rows; only the first ${limits.maxRows} are shown.`,
    );
  if (sizeCapped) {
    notes.push(
      `The result exceeded ${limits.maxResultBytes} bytes; only the first ${rows.length} rows are shown.`,
    );
  }
  if (cellsCut) notes.push(`Values longer than ${MAX_CELL_CHARS} characters were cut.`);
  if (rowCapped || sizeCapped) notes.push('Use LIMIT, filters or aggregates to see the rest.');
  return {
    rows,
    truncated: rowCapped || sizeCapped || cellsCut,
    note: notes.length > 0 ? notes.join(' ') : undefined,
  };
}

function readCursor(
  cursor: Cursor<unknown[]>,
  count: number,
): Promise<{ rows: unknown[][]; fields: pg.FieldDef[] }> {
  return new Promise((resolve, reject) => {
    cursor.read(count, (error, rows, result) => {
      if (error) reject(error);
      else resolve({ rows, fields: result?.fields ?? [] });
    });
  });
}

function databaseError(error: unknown, limits: SqlLimits): unknown {
  if (!(error instanceof pg.DatabaseError)) return error;
  switch (error.code) {
    case '57014':
      return new ToolError(
        'timeout',
        `The query was cancelled: it ran longer than ${limits.statementTimeoutMs} ms.`,
      );
    case '55P03':
      return new ToolError('timeout', `The query waited longer than ${limits.lockTimeoutMs} ms for a lock.`);
    case '25006':
      return new ToolError('refused', `run_sql is read-only: ${error.message}.`);
    case '42501':
      return new ToolError('refused', `The read-only role may not do this: ${error.message}.`);
    default:
      return error;
  }
}

async function connectReader(readerUrl: string, callId: string): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: readerUrl,
    application_name: `threadwork run_sql ${callId}`,
    connectionTimeoutMillis: 5_000,
    types: typeParsers,
  });
  try {
    await client.connect();
    return client;
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (!connectionErrorCodes.has(code)) throw error;
    throw new ToolError(
      'unavailable',
      'run_sql cannot connect as its read-only role; the server operator must check the tools database setup.',
    );
  }
}

async function columnTypes(client: pg.Client, fields: pg.FieldDef[]): Promise<Map<number, string>> {
  const oids = [...new Set(fields.map((field) => field.dataTypeID))];
  const found = await client.query<{ oid: number; name: string }>(
    'select oid::int as oid, format_type(oid, null) as name from pg_type where oid = any($1::oid[])',
    [oids],
  );
  return new Map(found.rows.map((row) => [row.oid, row.name]));
}

/**
 * Executes an already-guarded query as the read-only login: its own connection (so no session state survives),
 * a READ ONLY transaction with statement and lock timeouts, at most maxRows + 1 rows fetched, always rolled back.
 */
export async function executeReadOnly(
  readerUrl: string,
  query: string,
  limits: SqlLimits,
  context: Pick<ToolCallContext, 'callId' | 'signal'>,
): Promise<RunSqlResult> {
  const client = await connectReader(readerUrl, context.callId);
  client.on('error', () => {});
  const abort = () => void client.end().catch(() => {});
  context.signal.addEventListener('abort', abort, { once: true });
  try {
    await client.query('begin transaction isolation level repeatable read read only');
    await client.query(
      "select set_config('statement_timeout', $1, true), set_config('lock_timeout', $2, true)",
      [`${limits.statementTimeoutMs}ms`, `${limits.lockTimeoutMs}ms`],
    );
    const cursor = client.query(new Cursor<unknown[]>(query, [], { rowMode: 'array' }));
    const { rows: fetched, fields } = await readCursor(cursor, limits.maxRows + 1);
    await cursor.close();
    const types = await columnTypes(client, fields);
    const capped = capRows(fetched, limits);
    return {
      columns: fields.map((field) => ({ name: field.name, type: types.get(field.dataTypeID) ?? 'unknown' })),
      rows: capped.rows,
      row_count: capped.rows.length,
      truncated: capped.truncated,
      ...(capped.note ? { note: capped.note } : {}),
    };
  } catch (error) {
    throw databaseError(error, limits);
  } finally {
    context.signal.removeEventListener('abort', abort);
    await client.query('rollback').catch(() => {});
    await client.end().catch(() => {});
  }
}

export async function runSql(
  deps: SqlToolDeps,
  args: ToolArgs<'run_sql'>,
  context: ToolCallContext,
): Promise<RunSqlResult> {
  const verdict = await checkReadOnlyQuery(args.query);
  if (!verdict.allowed) throw new ToolError('refused', verdict.reason);
  return executeReadOnly(deps.readerUrl, args.query, deps.limits, context);
}
