// Projects (admin): an admin of the deployment manages every project, a project's admin key only its own.
import { ApiError, newId, notFound, schema, unixSeconds } from '@threadwork/shared';
import type { Principal } from '../auth.js';
import type { AppDeps } from '../deps.js';
import {
  deleteProjectRow,
  findProject,
  insertProject,
  listProjectRows,
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

/** Renames the project or changes how its end users' tokens are verified (at once here, within AUTH_CACHE_MS elsewhere). */
export async function modifyProject(
  deps: AppDeps,
  principal: Principal,
  projectId: string,
  input: ModifyProjectInput,
): Promise<ProjectObject> {
  const project = await managedProject(deps, principal, projectId);
  const patch = { ...endUserAuthColumns(input.end_user_auth), ...(input.name ? { name: input.name } : {}) };
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

/** Deletes the project with all it owns; its keys stop working on every API process. The default project stays. */
export async function deleteProject(deps: AppDeps, principal: Principal, projectId: string): Promise<void> {
  requireDeploymentAdmin(principal);
  if (projectId === schema.DEFAULT_PROJECT_ID) {
    throw new ApiError(400, 'The default project cannot be deleted.', { code: 'default_project' });
  }
  const keyIds = await deleteProjectRow(deps.db, projectId);
  if (!keyIds) throw notFound('project', projectId);
  deps.tokens.forget(projectId);
  for (const keyId of keyIds) await deps.keys.revoke(deps.redis, keyId);
}
