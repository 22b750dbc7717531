// Each project's space in the tools database (schema, owner role, reader login), prepared on its first SQL tool call.
import { schema } from '@threadwork/shared';
import {
  ProjectToolsUnavailableError,
  prepareProjectToolsSpace,
  readerDatabaseUrl,
} from '@threadwork/shared/tools-database';
import { ToolError } from '../../tool-error.js';
import type { SqlSpace } from './sql-deps.js';

export type SqlSpaces = (projectId: string) => Promise<SqlSpace>;

/**
 * The default project keeps the deployment's own space (public and every schema that is not a project's, read through
 * `defaultReaderUrl`, DDL as the TOOLS_DATABASE_URL connection). Every other project gets its own schema and roles,
 * created on first use and remembered for the life of the process (creating them again would change nothing).
 */
export function createSqlSpaces(toolsUrl: string, defaultReaderUrl: string): SqlSpaces {
  const prepared = new Map<string, Promise<SqlSpace>>();
  const defaultSpace: SqlSpace = {
    schema: 'public',
    isIsolated: false,
    readerUrl: defaultReaderUrl,
    ownerRole: null,
  };
  const prepare = async (projectId: string): Promise<SqlSpace> => {
    const space = await prepareProjectToolsSpace(toolsUrl, projectId);
    return {
      schema: space.schema,
      isIsolated: true,
      readerUrl: readerDatabaseUrl(toolsUrl, space.readerRole),
      ownerRole: space.ownerRole,
    };
  };
  return async (projectId) => {
    if (projectId === schema.DEFAULT_PROJECT_ID) return defaultSpace;
    let space = prepared.get(projectId);
    if (!space) {
      space = prepare(projectId);
      prepared.set(projectId, space);
      // A failed preparation is tried again by the next call.
      space.catch(() => prepared.delete(projectId));
    }
    return space.catch((error: unknown) => {
      if (!(error instanceof ProjectToolsUnavailableError)) throw error;
      throw new ToolError(
        'unavailable',
        "The SQL tools cannot set up this project's schema (the tools database connection may not create roles); " +
          'the server operator must check the tools database setup.',
      );
    });
  };
}
