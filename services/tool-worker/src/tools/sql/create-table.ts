// create_table: a new table from structured arguments: allow-listed types and defaults, quoted identifiers.
import type pg from 'pg';
import { ToolError } from '../../tool-error.js';
import type { ToolArgs } from '../registry.js';
import { type SqlToolDeps, withOwnerTransaction } from './sql-deps.js';
import { qualifiedName, quoteIdent, refuseOutsideSpace, refuseProtectedSchema } from './sql-names.js';

type CreateTableArgs = ToolArgs<'create_table'>;
type ColumnArgs = CreateTableArgs['columns'][number];

function columnSql(column: ColumnArgs, schema: string): string {
  const parts = [quoteIdent(column.name), column.length ? `${column.type}(${column.length})` : column.type];
  if (column.not_null) parts.push('not null');
  if (column.unique) parts.push('unique');
  // The default is one of a fixed set of SQL fragments (columnDefaults), never model-written text.
  if (column.default) parts.push(`default ${column.default}`);
  if (column.references) {
    const target = qualifiedName(column.references.schema ?? schema, column.references.table);
    parts.push(`references ${target} (${quoteIdent(column.references.column)})`);
  }
  return parts.join(' ');
}

/** Refuses argument combinations the DDL would get wrong or the database would explain badly. */
function checkColumns(args: CreateTableArgs): void {
  const names = args.columns.map((column) => column.name);
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate) throw new ToolError('invalid_arguments', `The column '${duplicate}' is listed twice.`);
  const missing = (args.primary_key ?? []).filter((name) => !names.includes(name));
  if (missing.length > 0) {
    throw new ToolError('invalid_arguments', `primary_key names unknown column(s): ${missing.join(', ')}.`);
  }
  const misplacedLength = args.columns.find(
    (column) => column.length !== undefined && column.type !== 'varchar',
  );
  if (misplacedLength) {
    throw new ToolError(
      'invalid_arguments',
      `length applies to varchar columns only ('${misplacedLength.name}').`,
    );
  }
}

function createTableSql(args: CreateTableArgs, schema: string): string {
  const lines = args.columns.map((column) => columnSql(column, schema));
  if (args.primary_key) lines.push(`primary key (${args.primary_key.map(quoteIdent).join(', ')})`);
  return `create table ${qualifiedName(schema, args.name)} (\n  ${lines.join(',\n  ')}\n)`;
}

async function checkTarget(client: pg.PoolClient, schema: string, name: string): Promise<void> {
  const found = await client.query<{ schema_exists: boolean; relkind: string | null }>(
    `select exists (select 1 from pg_namespace where nspname = $1) as schema_exists,
       (select c.relkind::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1 and c.relname = $2) as relkind`,
    [schema, name],
  );
  const row = found.rows[0];
  if (!row?.schema_exists) throw new ToolError('not_found', `The schema '${schema}' does not exist.`);
  if (row.relkind)
    throw new ToolError(
      'refused',
      `'${schema}.${name}' already exists; create_table never replaces a table.`,
    );
}

export async function createTable(deps: SqlToolDeps, args: CreateTableArgs) {
  const schema = args.schema ?? deps.space.schema;
  refuseOutsideSpace(deps.space, schema, 'creating tables in');
  refuseProtectedSchema(schema, deps.protectedSchemas, 'creating tables in');
  for (const column of args.columns) {
    if (column.references?.schema)
      refuseOutsideSpace(deps.space, column.references.schema, 'referencing tables in');
  }
  checkColumns(args);
  const ddl = createTableSql(args, schema);
  await withOwnerTransaction(deps, async (client) => {
    await checkTarget(client, schema, args.name);
    await client.query(ddl);
    if (args.enable_rls)
      await client.query(`alter table ${qualifiedName(schema, args.name)} enable row level security`);
  });
  return {
    created: `${schema}.${args.name}`,
    columns: args.columns.map((column) => column.name),
    primary_key: args.primary_key ?? null,
    row_level_security: args.enable_rls ?? false,
    sql: ddl,
  };
}
