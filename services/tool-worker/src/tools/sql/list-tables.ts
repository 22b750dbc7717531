// list_tables: the tables and views of the project's space, with schema, kind, estimated rows and comment.
import type { ToolArgs } from '../registry.js';
import type { SqlToolDeps } from './sql-deps.js';

const MAX_TABLES = 500;

interface TableSummary {
  schema: string;
  name: string;
  kind: string;
  estimated_rows: number | null;
  comment: string | null;
}

const listTablesSql = `
  select n.nspname as schema, c.relname as name,
    case c.relkind when 'r' then 'table' when 'p' then 'partitioned table' when 'v' then 'view'
      when 'm' then 'materialized view' when 'f' then 'foreign table' end as kind,
    case when c.relkind in ('r', 'p', 'm') and c.reltuples >= 0 then c.reltuples::bigint end as estimated_rows,
    obj_description(c.oid, 'pg_class') as comment
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where c.relkind in ('r', 'p', 'v', 'm', 'f') and not c.relispartition
    and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'
    and ($1::text is null or n.nspname = $1)
    and (case when $2::text is null then n.nspname not like 'tw\\_project\\_%' else n.nspname = $2 end)
  order by n.nspname, c.relname
  limit ${MAX_TABLES + 1}`;

export async function listTables(deps: SqlToolDeps, args: ToolArgs<'list_tables'>) {
  // Named, so each connection parses and plans it once.
  const result = await deps.pool.query<TableSummary & { estimated_rows: string | null }>({
    name: 'list_tables',
    text: listTablesSql,
    values: [args.schema ?? null, deps.space.isIsolated ? deps.space.schema : null],
  });
  const tables = result.rows.slice(0, MAX_TABLES).map((row) => ({
    ...row,
    estimated_rows: row.estimated_rows === null ? null : Number(row.estimated_rows),
  }));
  const truncated = result.rows.length > MAX_TABLES;
  return {
    tables,
    count: tables.length,
    ...(truncated
      ? { truncated, note: `Only the first ${MAX_TABLES} are listed; pass schema to narrow.` }
      : {}),
  };
}
