// Projects (admin): an admin of the deployment manages every project, a project's admin key only its own.
import { ApiError, newId, notFound, schema, unixSeconds } from '@threadwork/shared';
import { dropProjectToolsSpace, isSameDatabase } from '@threadwork/shared/tools-database';
import type { Principal } from '../auth.js';
import type { AppDeps } from '../deps.js';
import {
  deleteProjectRow,
  findProject,
  insertProject,
  listProjectRows,
  listToolsDatabaseUrls,
  type ProjectRow,
  updateProject,
} from '../repositories/projects.js';
import type { CreateProjectInput, EndUserAuthInput, ModifyProjectInput } from '../schemas/admin.js';

export interface ProjectObject {
  id: string;
  object: 'project';
  name: string;
  created_at: number;
  /** The secret itself is never shown, only whether one is set. */
  end_user_auth: {
    has_jwt_secret: boolean;
    jwks_url: string | null;
    issuer: string | null;
    audience: string | null;
  };
  /** Its password is never shown. */
  tools_database_url: string | null;
  disabled_tools: string[];
}

/** The URL with its password masked: enough to recognise the database, nothing to log in with. */
function maskedDatabaseUrl(url: string): string {
  const masked = new URL(url);
  if (masked.password) masked.password = '****';
  return masked.toString();
}

function toProjectObject(row: ProjectRow): ProjectObject {
  return {
    id: row.id,
    object: 'project',
    name: row.name,
    created_at: unixSeconds(row.createdAt),
    end_user_auth: {
      has_jwt_secret: row.jwtSecret !== null,
      jwks_url: row.jwksUrl,
      issuer: row.jwtIssuer,
      audience: row.jwtAudience,
    },
    tools_database_url: row.toolsDatabaseUrl === null ? null : maskedDatabaseUrl(row.toolsDatabaseUrl),
    disabled_tools: row.disabledTools,
  };
}

/** The columns an `end_user_auth` input sets (absent fields stay as they are). */
function endUserAuthColumns(input: EndUserAuthInput | undefined): Partial<ProjectRow> {
  if (!input) return {};
  const columns: Partial<ProjectRow> = {};
  if (input.jwt_secret !== undefined) columns.jwtSecret = input.jwt_secret;
  if (input.jwks_url !== undefined) columns.jwksUrl = input.jwks_url;
  if (input.issuer !== undefined) columns.jwtIssuer = input.issuer;
  if (input.audience !== undefined) columns.jwtAudience = input.audience;
  return columns;
}

function requireDeploymentAdmin(principal: Principal): void {
  if (!principal.isDeploymentAdmin) {
    throw new ApiError(403, 'Only an admin key of the deployment can create or delete projects.', {
      type: 'permission_error',
    });
  }
}

/** The project when the caller manages it; another project answers 404, as if it did not exist. */
export async function managedProject(
  deps: AppDeps,
  principal: Principal,
  projectId: string,
): Promise<ProjectRow> {
  const row =
    principal.isDeploymentAdmin || principal.projectId === projectId
      ? await findProject(deps.db, projectId)
      : null;
  if (!row) throw notFound('project', projectId);
  return row;
}

export async function createProject(
  deps: AppDeps,
  principal: Principal,
  input: CreateProjectInput,
): Promise<ProjectObject> {
  requireDeploymentAdmin(principal);
  const columns = { ...endUserAuthColumns(input.end_user_auth), id: newId('project'), name: input.name };
  return toProjectObject(await insertProject(deps.db, columns));
}

function invalidToolsDatabase(message: string): ApiError {
  return new ApiError(400, `Invalid 'tools_database_url': ${message}`, {
    param: 'tools_database_url',
    code: 'invalid_value',
  });
}

/**
 * A project's own tools database: set by an admin of the deployment only (the tool worker connects wherever it
 * points), never for the default project (its tools database is TOOLS_DATABASE_URL), and never a database
 * Threadwork or another project already uses.
 */
async function toolsDatabaseColumn(
  deps: AppDeps,
  principal: Principal,
  project: ProjectRow,
  url: string | null | undefined,
): Promise<Partial<ProjectRow>> {
  if (url === undefined) return {};
  if (!principal.isDeploymentAdmin) {
    throw new ApiError(403, "Only an admin key of the deployment can set a project's tools database.", {
      type: 'permission_error',
    });
  }
  if (url === null) return { toolsDatabaseUrl: null };
  if (project.id === schema.DEFAULT_PROJECT_ID) {
    throw invalidToolsDatabase("the default project's tools database is TOOLS_DATABASE_URL.");
  }
  const { DATABASE_URL, TOOLS_DATABASE_URL } = deps.config;
  if (isSameDatabase(url, DATABASE_URL) || isSameDatabase(url, TOOLS_DATABASE_URL)) {
    throw invalidToolsDatabase('it names a database Threadwork itself uses.');
  }
  const taken = await listToolsDatabaseUrls(deps.db, project.id);
  if (taken.some((other) => isSameDatabase(url, other))) {
    throw invalidToolsDatabase("it names another project's tools database.");
  }
  return { toolsDatabaseUrl: url };
}

/**
 * Renames the project, changes how its end users' tokens are verified (at once here, within AUTH_CACHE_MS
 * elsewhere), its tools database or its disabled tools (from the next tool call on).
 */
export async function modifyProject(
  deps: AppDeps,
  principal: Principal,
  projectId: string,
  input: ModifyProjectInput,
): Promise<ProjectObject> {
  const project = await managedProject(deps, principal, projectId);
  const patch = {
    ...endUserAuthColumns(input.end_user_auth),
    ...(input.name ? { name: input.name } : {}),
    ...(input.disabled_tools ? { disabledTools: [...new Set(input.disabled_tools)].sort() } : {}),
    ...(await toolsDatabaseColumn(deps, principal, project, input.tools_database_url)),
  };
  const row = Object.keys(patch).length > 0 ? await updateProject(deps.db, project.id, patch) : project;
  deps.tokens.forget(project.id);
  return toProjectObject(row ?? project);
}

export async function listProjects(deps: AppDeps, principal: Principal) {
  const rows = await listProjectRows(
    deps.db,
    principal.isDeploymentAdmin ? undefined : [principal.projectId],
  );
  return { object: 'list' as const, data: rows.map(toProjectObject) };
}

export async function retrieveProject(deps: AppDeps, principal: Principal, projectId: string) {
  return toProjectObject(await managedProject(deps, principal, projectId));
}

/**
 * Drops the project's space in the deployment's tools database (its schema with its tables, its roles) first, so a
 * failure leaves the project to be deleted again; then its login in its own tools database, which may be gone for
 * good (the project is deleted anyway; the login stays there).
 */
async function dropToolsSpaces(deps: AppDeps, project: ProjectRow): Promise<void> {
  try {
    await dropProjectToolsSpace(deps.config.TOOLS_DATABASE_URL, project.id);
  } catch (error) {
    deps.log.error({ err: error, projectId: project.id }, "could not drop the project's SQL tools space");
    throw new ApiError(
      503,
      "The project's SQL tools space could not be dropped from the tools database; nothing was deleted. Try again.",
      { type: 'server_error', code: 'tools_database_unavailable' },
    );
  }
  if (project.toolsDatabaseUrl === null) return;
  await dropProjectToolsSpace(project.toolsDatabaseUrl, project.id).catch((error: unknown) =>
    deps.log.warn(
      { err: error, projectId: project.id },
      "could not drop the project's login in its own tools database",
    ),
  );
}

/**
 * Deletes the project with all it owns, its SQL tools' schema and roles included; its keys stop working on every
 * API process. The default project stays.
 */
export async function deleteProject(deps: AppDeps, principal: Principal, projectId: string): Promise<void> {
  requireDeploymentAdmin(principal);
  if (projectId === schema.DEFAULT_PROJECT_ID) {
    throw new ApiError(400, 'The default project cannot be deleted.', { code: 'default_project' });
  }
  const project = await findProject(deps.db, projectId);
  if (!project) throw notFound('project', projectId);
  await dropToolsSpaces(deps, project);
  const keyIds = await deleteProjectRow(deps.db, projectId);
  if (!keyIds) throw notFound('project', projectId);
  deps.tokens.forget(projectId);
  for (const keyId of keyIds) await deps.keys.revoke(deps.redis, keyId);
}
