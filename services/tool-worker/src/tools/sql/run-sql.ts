// run_sql: one guarded read-only statement, executed as the read-only login in a READ ONLY transaction with caps.
import pg from 'pg';
import Cursor from 'pg-cursor';
import { ToolError } from '../../tool-error.js';
import type { ToolArgs, ToolCallContext } from '../registry.js';
import {
  type BoundedRow,
  boundedStatement,
  describeStatement,
  MAX_CELL_CHARS,
  MAX_COLUMNS,
  readBoundedRow,
} from './bounded-query.js';
import type { SqlLimits, SqlToolDeps } from './sql-deps.js';
import { checkReadOnlyQuery } from './sql-guard.js';

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

/**
 * A statement run_sql sends. A query (SELECT, WITH, VALUES, TABLE) is wrapped so that Postgres bounds its result;
 * EXPLAIN and SHOW cannot be wrapped and are sent as written (their output is a plan or a setting, not data).
 */
export interface ReadStatement {
  text: string;
  isQuery: boolean;
}

/** What was read: at most maxRows + 1 rows, each value already cut to MAX_CELL_CHARS. */
interface Read {
  fields: pg.FieldDef[];
  rows: BoundedRow[];
  /** Whether rows were left out because the result passed maxResultBytes before it was sent. */
  isOverBudget: boolean;
}

async function readCursor(
  client: pg.Client,
  text: string,
  count: number,
): Promise<{ rows: unknown[][]; fields: pg.FieldDef[] }> {
  const cursor = client.query(new Cursor<unknown[]>(text, [], { rowMode: 'array' }));
  const read = await new Promise<{ rows: unknown[][]; fields: pg.FieldDef[] }>((resolve, reject) => {
    cursor.read(count, (error, rows, result) => {
      if (error) reject(error);
      else resolve({ rows, fields: result?.fields ?? [] });
    });
  });
  await cursor.close();
  return read;
}

/** Reads a query through boundedStatement, so that neither a huge value nor many rows leave Postgres whole. */
async function readQuery(client: pg.Client, query: string, limits: SqlLimits): Promise<Read> {
  const { fields } = await readCursor(client, describeStatement(query), 1);
  if (fields.length === 0) return readAsWritten(client, query, limits);
  if (fields.length > MAX_COLUMNS) {
    throw new ToolError(
      'refused',
      `run_sql returns at most ${MAX_COLUMNS} columns; the query has ${fields.length}. Select fewer columns.`,
    );
  }
  const bounded = boundedStatement(query, fields.length, limits.maxResultBytes);
  const { rows: fetched } = await readCursor(client, bounded, limits.maxRows + 1);
  const rows: BoundedRow[] = [];
  for (const raw of fetched) {
    const row = readBoundedRow(raw, fields.length);
    if (!row) return { fields, rows, isOverBudget: true };
    rows.push(row);
  }
  return { fields, rows, isOverBudget: false };
}

function capCell(value: unknown): { value: unknown; isCut: boolean } {
  const text =
    typeof value === 'string'
      ? value
      : value !== null && typeof value === 'object'
        ? JSON.stringify(value)
        : null;
  if (text === null || text.length <= MAX_CELL_CHARS) return { value, isCut: false };
  return {
    value: `${text.slice(0, MAX_CELL_CHARS)}… [${text.length - MAX_CELL_CHARS} more characters]`,
    isCut: true,
  };
}

/** Reads EXPLAIN or SHOW (or a query without columns) as Postgres sends it, cutting long values here. */
async function readAsWritten(client: pg.Client, text: string, limits: SqlLimits): Promise<Read> {
  const { rows: fetched, fields } = await readCursor(client, text, limits.maxRows + 1);
  const rows = fetched.map((raw) => {
    const cells = raw.map(capCell);
    return { cells: cells.map((cell) => cell.value), isCut: cells.some((cell) => cell.isCut) };
  });
  return { fields, rows, isOverBudget: false };
}

/** Keeps rows while they fit the row and byte caps (as JSON), and says in `note` what was left out. */
function capRows(read: Read, limits: Pick<SqlLimits, 'maxRows' | 'maxResultBytes'>) {
  const rows: unknown[][] = [];
  let bytes = 0;
  let isSizeCapped = read.isOverBudget;
  let isAnyCut = false;
  for (const row of read.rows.slice(0, limits.maxRows)) {
    bytes += Buffer.byteLength(JSON.stringify(row.cells)) + 1;
    if (bytes > limits.maxResultBytes) {
      isSizeCapped = true;
      break;
    }
    rows.push(row.cells);
    isAnyCut ||= row.isCut;
  }
  const isRowCapped = !isSizeCapped && read.rows.length > limits.maxRows;
  const notes: string[] = [];
  if (isRowCapped)
    notes.push(
      `The query returned more than ${limits.maxRows} rows; only the first ${limits.maxRows} are shown.`,
    );
  if (isSizeCapped) {
    notes.push(
      `The result exceeded ${limits.maxResultBytes} bytes; only the first ${rows.length} rows are shown.`,
    );
  }
  if (isAnyCut) notes.push(`Values longer than ${MAX_CELL_CHARS} characters were cut.`);
  if (isRowCapped || isSizeCapped) notes.push('Use LIMIT, filters or aggregates to see the rest.');
  return {
    rows,
    truncated: isRowCapped || isSizeCapped || isAnyCut,
    note: notes.length > 0 ? notes.join(' ') : undefined,
  };
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
 * Executes an already-guarded statement as the read-only login: its own connection (so no session state survives),
 * a READ ONLY transaction with statement and lock timeouts, at most maxRows + 1 rows fetched, always rolled back.
 */
export async function executeReadOnly(
  readerUrl: string,
  statement: ReadStatement,
  limits: SqlLimits,
  context: Pick<ToolCallContext, 'callId' | 'signal'>,
  /** The only schema unqualified names are looked up in (a project's own); the login's default when absent. */
  schema?: string,
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
    if (schema)
      await client.query("select set_config('search_path', $1, true)", [client.escapeIdentifier(schema)]);
    const read = statement.isQuery
      ? await readQuery(client, statement.text, limits)
      : await readAsWritten(client, statement.text, limits);
    const types = await columnTypes(client, read.fields);
    const capped = capRows(read, limits);
    return {
      columns: read.fields.map((field) => ({
        name: field.name,
        type: types.get(field.dataTypeID) ?? 'unknown',
      })),
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
  const statement = { text: verdict.statement, isQuery: verdict.kind === 'select' };
  const { readerUrl, isIsolated, schema } = deps.space;
  return executeReadOnly(readerUrl, statement, deps.limits, context, isIsolated ? schema : undefined);
}
