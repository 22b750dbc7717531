// A project's product catalog (admin): imported by the project's admin keys or an admin of the deployment.

import { unixSeconds } from '@threadwork/shared';
import { type CatalogImportInput, importCatalog, readCatalogState } from '@threadwork/shared/catalog';
import type { Principal } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { managedProject } from './projects.js';

export interface CatalogObject {
  object: 'catalog';
  project_id: string;
  product_count: number;
  /** The content hash of the last import; null before the first. */
  hash: string | null;
  imported_at: number | null;
}

export async function importProjectCatalog(
  deps: AppDeps,
  principal: Principal,
  projectId: string,
  input: CatalogImportInput,
) {
  const project = await managedProject(deps, principal, projectId);
  return importCatalog(deps.db, project.id, input);
}

export async function retrieveProjectCatalog(
  deps: AppDeps,
  principal: Principal,
  projectId: string,
): Promise<CatalogObject> {
  const project = await managedProject(deps, principal, projectId);
  const state = await readCatalogState(deps.db, project.id);
  return {
    object: 'catalog',
    project_id: project.id,
    product_count: state?.productCount ?? 0,
    hash: state?.contentHash ?? null,
    imported_at: state ? unixSeconds(state.importedAt) : null,
  };
}
