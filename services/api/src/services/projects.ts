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
} from '../repositories/projects.js';
import type { CreateProjectInput } from '../schemas/admin.js';

export interface ProjectObject {
  id: string;
  object: 'project';
  name: string;
  created_at: number;
}

function toProjectObject(row: ProjectRow): ProjectObject {
  return { id: row.id, object: 'project', name: row.name, created_at: unixSeconds(row.createdAt) };
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
  return toProjectObject(await insertProject(deps.db, { id: newId('project'), name: input.name }));
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
  for (const keyId of keyIds) await deps.keys.revoke(deps.redis, keyId);
}
