// A checksum of everything run_sql must never change in the tools database: relations, rows, sequences, large objects.
import type pg from 'pg';

export async function databaseChecksum(pool: pg.Pool): Promise<string> {
  const relations = await pool.query<{ schema: string; name: string; kind: string }>(
    `select n.nspname as schema, c.relname as name, c.relkind::text as kind
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'
       and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
     order by 1, 2`,
  );
  const parts: string[] = [];
  for (const { schema, name, kind } of relations.rows) {
    const relation = `"${schema}"."${name}"`;
    const content =
      kind === 'S'
        ? await pool.query(`select last_value::text || ':' || is_called::text as digest from ${relation}`)
        : await pool.query(
            `select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest from ${relation} t`,
          );
    parts.push(`${schema}.${name}:${kind}:${content.rows[0]?.digest}`);
  }
  const largeObjects = await pool.query('select count(*)::int as count from pg_largeobject_metadata');
  parts.push(`large_objects:${largeObjects.rows[0]?.count}`);
  return parts.join('\n');
}
