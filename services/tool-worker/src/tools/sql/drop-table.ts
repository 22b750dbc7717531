// drop_table: drops one table after an explicit confirmation; refuses system and protected schemas and dependents.
import pg from 'pg';
import { ToolError } from '../../tool-error.js';
import type { ToolArgs } from '../registry.js';
import { type SqlToolDeps, withOwnerTransaction } from './sql-deps.js';
import { qualifiedName, refuseOutsideSpace, refuseProtectedSchema } from './sql-names.js';

type DropTableArgs = ToolArgs<'drop_table'>;

function checkConfirmation(args: DropTableArgs, schema: string): void {
  if (args.confirm === args.table || args.confirm === `${schema}.${args.table}`) return;
  throw new ToolError(
    'refused',
    `Not dropped: confirm must equal the table name '${args.table}'. Ask the user to confirm before dropping a table.`,
  );
}

async function checkIsTable(client: pg.PoolClient, schema: string, table: string): Promise<void> {
  const found = await client.query<{ relkind: string }>(
    `select c.relkind::text as relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = $1 and c.relname = $2`,
    [schema, table],
  );
  const relkind = found.rows[0]?.relkind;
  if (!relkind) throw new ToolError('not_found', `No table named '${schema}.${table}'.`);
  if (relkind !== 'r' && relkind !== 'p')
    throw new ToolError('refused', `'${schema}.${table}' is not a table; drop_table drops tables only.`);
}

function dependentsError(error: unknown, schema: string, table: string): unknown {
  if (!(error instanceof pg.DatabaseError) || error.code !== '2BP01') return error;
  const dependents = (error.detail ?? '')
    .split('\n')
    .filter((line) => line.length > 0)
    .join('; ');
  return new ToolError(
    'refused',
    `Not dropped: other objects depend on ${schema}.${table} (${dependents}). Pass cascade: true to drop them too.`,
  );
}

export async function dropTable(deps: SqlToolDeps, args: DropTableArgs) {
  const schema = args.schema ?? deps.space.schema;
  checkConfirmation(args, schema);
  refuseOutsideSpace(deps.space, schema, 'dropping tables in');
  refuseProtectedSchema(schema, deps.protectedSchemas, 'dropping tables in');
  const alsoDropped: string[] = [];
  await withOwnerTransaction(deps, async (client) => {
    await checkIsTable(client, schema, args.table);
    const collect = (notice: { message?: string; detail?: string }) => {
      // One dependent comes in the message; several are summarised there and listed in the detail.
      const lines = notice.detail ? notice.detail.split('\n') : [notice.message ?? ''];
      const prefix = 'drop cascades to ';
      alsoDropped.push(
        ...lines.filter((line) => line.startsWith(prefix)).map((line) => line.slice(prefix.length)),
      );
    };
    client.on('notice', collect);
    try {
      await client.query(
        `drop table ${qualifiedName(schema, args.table)} ${args.cascade ? 'cascade' : 'restrict'}`,
      );
    } catch (error) {
      throw dependentsError(error, schema, args.table);
    } finally {
      client.off('notice', collect);
    }
  });
  return { dropped: `${schema}.${args.table}`, cascade: args.cascade ?? false, also_dropped: alsoDropped };
}
