// get_schema: one table or view described: columns, keys, constraints, indexes and row-level security.
import { ToolError } from '../../tool-error.js';
import type { ToolArgs } from '../registry.js';
import type { SqlToolDeps } from './sql-deps.js';

const relationSql = `
  select c.oid::int as oid, n.nspname as schema, c.relname as name, c.relkind as relkind,
    obj_description(c.oid, 'pg_class') as comment, c.relrowsecurity as rls_enabled, c.relforcerowsecurity as rls_forced,
    case when c.relkind in ('v', 'm') then pg_get_viewdef(c.oid, true) end as view_definition
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where c.relname = $1 and ($2::text is null or n.nspname = $2) and c.relkind in ('r', 'p', 'v', 'm', 'f')
    and (case when $4::boolean then n.nspname = $3 else n.nspname not like 'tw\\_project\\_%' end)
  order by n.nspname = $3 desc, n.nspname`;

const columnsSql = `
  select a.attname as name, format_type(a.atttypid, a.atttypmod) as type, not a.attnotnull as nullable,
    pg_get_expr(d.adbin, d.adrelid) as default, col_description(a.attrelid, a.attnum) as comment,
    case a.attidentity when 'a' then 'always' when 'd' then 'by default' end as identity,
    case a.attgenerated when 's' then 'stored' end as generated
  from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
  where a.attrelid = $1 and a.attnum > 0 and not a.attisdropped
  order by a.attnum`;

const constraintsSql = `
  select con.conname as name, con.contype as type, pg_get_constraintdef(con.oid, true) as definition,
    array(select a.attname from unnest(con.conkey) with ordinality k(attnum, i)
          join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum order by k.i)::text[] as columns,
    fn.nspname as ref_schema, fc.relname as ref_table,
    array(select a.attname from unnest(con.confkey) with ordinality k(attnum, i)
          join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum order by k.i)::text[] as ref_columns,
    con.confupdtype as on_update, con.confdeltype as on_delete
  from pg_constraint con
  left join pg_class fc on fc.oid = con.confrelid left join pg_namespace fn on fn.oid = fc.relnamespace
  where con.conrelid = $1
  order by con.contype, con.conname`;

const indexesSql = `
  select ic.relname as name, pg_get_indexdef(i.indexrelid) as definition, i.indisunique as unique,
    i.indisprimary as primary
  from pg_index i join pg_class ic on ic.oid = i.indexrelid
  where i.indrelid = $1
  order by ic.relname`;

const policiesSql = `
  select policyname as name, permissive, roles::text[] as roles, cmd as command, qual as using, with_check
  from pg_policies where schemaname = $1 and tablename = $2 order by policyname`;

const kinds: Record<string, string> = {
  r: 'table',
  p: 'partitioned table',
  v: 'view',
  m: 'materialized view',
  f: 'foreign table',
};

const referentialActions: Record<string, string> = {
  a: 'no action',
  r: 'restrict',
  c: 'cascade',
  n: 'set null',
  d: 'set default',
};

interface RelationRow {
  oid: number;
  schema: string;
  name: string;
  relkind: string;
  comment: string | null;
  rls_enabled: boolean;
  rls_forced: boolean;
  view_definition: string | null;
}

interface ConstraintRow {
  name: string;
  type: string;
  definition: string;
  columns: string[];
  ref_schema: string | null;
  ref_table: string | null;
  ref_columns: string[];
  on_update: string;
  on_delete: string;
}

async function findRelation(deps: SqlToolDeps, args: ToolArgs<'get_schema'>): Promise<RelationRow> {
  const { schema, isIsolated } = deps.space;
  const found = await deps.pool.query<RelationRow>(relationSql, [
    args.table,
    args.schema ?? null,
    schema,
    isIsolated,
  ]);
  const where = args.schema ? ` in schema '${args.schema}'` : '';
  const [first, ...others] = found.rows;
  if (!first) {
    throw new ToolError(
      'not_found',
      `No table or view named '${args.table}'${where}. Use list_tables to see the tables.`,
    );
  }
  if (others.length > 0 && first.schema !== schema) {
    const schemas = found.rows.map((row) => row.schema).join(', ');
    throw new ToolError(
      'refused',
      `'${args.table}' exists in several schemas (${schemas}); pass schema to choose one.`,
    );
  }
  return first;
}

function describeConstraints(rows: ConstraintRow[]) {
  const primary = rows.find((row) => row.type === 'p');
  return {
    primary_key: primary ? { name: primary.name, columns: primary.columns } : null,
    foreign_keys: rows
      .filter((row) => row.type === 'f')
      .map((row) => ({
        name: row.name,
        columns: row.columns,
        references: { schema: row.ref_schema, table: row.ref_table, columns: row.ref_columns },
        on_update: referentialActions[row.on_update] ?? row.on_update,
        on_delete: referentialActions[row.on_delete] ?? row.on_delete,
      })),
    unique_constraints: rows
      .filter((row) => row.type === 'u')
      .map((row) => ({ name: row.name, columns: row.columns })),
    check_constraints: rows
      .filter((row) => row.type === 'c')
      .map((row) => ({ name: row.name, definition: row.definition })),
    exclusion_constraints: rows
      .filter((row) => row.type === 'x')
      .map((row) => ({ name: row.name, definition: row.definition })),
  };
}

export async function getSchema(deps: SqlToolDeps, args: ToolArgs<'get_schema'>) {
  const relation = await findRelation(deps, args);
  const [columns, constraints, indexes, policies] = await Promise.all([
    deps.pool.query(columnsSql, [relation.oid]),
    deps.pool.query<ConstraintRow>(constraintsSql, [relation.oid]),
    deps.pool.query(indexesSql, [relation.oid]),
    deps.pool.query(policiesSql, [relation.schema, relation.name]),
  ]);
  return {
    schema: relation.schema,
    name: relation.name,
    kind: kinds[relation.relkind] ?? relation.relkind,
    comment: relation.comment,
    columns: columns.rows,
    ...describeConstraints(constraints.rows),
    indexes: indexes.rows,
    row_level_security: {
      enabled: relation.rls_enabled,
      forced: relation.rls_forced,
      policies: policies.rows,
    },
    ...(relation.view_definition ? { view_definition: relation.view_definition.trim() } : {}),
  };
}
