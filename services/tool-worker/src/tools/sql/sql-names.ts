// SQL names for the SQL tools: identifier quoting, and the schemas whose tables the tools must not create or drop.
import { PROJECT_SCHEMA_PREFIX } from '@threadwork/shared/tools-database';
import { ToolError } from '../../tool-error.js';
import type { SqlSpace } from './sql-deps.js';

const systemSchemas = new Set(['pg_catalog', 'information_schema', 'pg_toast']);

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function qualifiedName(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** pg_catalog, information_schema, pg_toast and every other pg_* schema (temporary and toast schemas). */
function isSystemSchema(schema: string): boolean {
  return systemSchemas.has(schema) || schema.startsWith('pg_');
}

export function refuseProtectedSchema(
  schema: string,
  protectedSchemas: readonly string[],
  action: string,
): void {
  if (isSystemSchema(schema)) {
    throw new ToolError('refused', `'${schema}' is a system schema; ${action} it is not allowed.`);
  }
  if (protectedSchemas.includes(schema)) {
    throw new ToolError(
      'refused',
      `The schema '${schema}' is protected by the server's configuration; ${action} it is not allowed.`,
    );
  }
}

/** Refuses a schema outside the project's space: another project's schema, or any other for an isolated project. */
export function refuseOutsideSpace(space: SqlSpace, schema: string, action: string): void {
  if (space.isIsolated ? schema === space.schema : !schema.startsWith(PROJECT_SCHEMA_PREFIX)) return;
  const where = space.isIsolated ? `; this project's tables are in the schema '${space.schema}'` : '';
  throw new ToolError(
    'refused',
    `The schema '${schema}' is not this project's; ${action} it is not allowed${where}.`,
  );
}
