// /admin/projects: projects, their keys and their product catalogs. Mounted behind `requireProjectAdmin`: a
// project's admin key manages its own project, an admin of the deployment every project.
import { catalogImportSchema } from '@threadwork/shared/catalog';
import { principalOf } from '../auth.js';
import type { AppDeps } from '../deps.js';
import {
  apiKeyListSchema,
  catalogImportResultSchema,
  catalogSchema,
  createdKeySchema,
  createProjectKeySchema,
  createProjectSchema,
  modifyProjectSchema,
  projectListSchema,
  projectSchema,
} from '../schemas/admin.js';
import { deletedSchema } from '../schemas/objects.js';
import { createProjectKey, listApiKeys, revokeKey } from '../services/api-keys.js';
import { importProjectCatalog, retrieveProjectCatalog } from '../services/catalog.js';
import {
  createProject,
  deleteProject,
  listProjects,
  managedProject,
  modifyProject,
  retrieveProject,
} from '../services/projects.js';
import { RouteSet } from './route.js';

const tag = 'Admin';

export function projectsRoutes(deps: AppDeps): RouteSet {
  const routes = new RouteSet();

  routes.route(
    {
      method: 'post',
      path: '/projects',
      summary: 'Create a project (deployment admin)',
      tag,
      body: createProjectSchema,
      responses: { 201: { json: projectSchema } },
    },
    async (_req, res, { body }) => {
      res.status(201).json(await createProject(deps, principalOf(res), body));
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/projects',
      summary: 'List the projects the key manages (admin)',
      tag,
      responses: { 200: { json: projectListSchema } },
    },
    async (_req, res) => {
      res.json(await listProjects(deps, principalOf(res)));
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/projects/:projectId',
      summary: 'Retrieve a project (admin)',
      tag,
      responses: { 200: { json: projectSchema } },
    },
    async (req, res) => {
      res.json(await retrieveProject(deps, principalOf(res), req.params.projectId));
    },
  );

  routes.route(
    {
      method: 'post',
      path: '/projects/:projectId',
      summary: "Rename a project or change how its end users' tokens are verified (admin)",
      tag,
      body: modifyProjectSchema,
      responses: { 200: { json: projectSchema } },
    },
    async (req, res, { body }) => {
      res.json(await modifyProject(deps, principalOf(res), req.params.projectId, body));
    },
  );

  routes.route(
    {
      method: 'delete',
      path: '/projects/:projectId',
      summary: 'Delete a project and everything it owns (deployment admin)',
      tag,
      responses: { 200: { json: deletedSchema('project.deleted') } },
    },
    async (req, res) => {
      await deleteProject(deps, principalOf(res), req.params.projectId);
      res.json({ id: req.params.projectId, object: 'project.deleted', deleted: true });
    },
  );

  routes.route(
    {
      method: 'post',
      path: '/projects/:projectId/keys',
      summary: 'Create a key of the project (admin); the key is shown only in this answer',
      tag,
      body: createProjectKeySchema,
      responses: { 201: { json: createdKeySchema } },
    },
    async (req, res, { body }) => {
      const project = await managedProject(deps, principalOf(res), req.params.projectId);
      res.status(201).json(await createProjectKey(deps, project.id, body));
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/projects/:projectId/keys',
      summary: "List the project's keys (admin)",
      tag,
      responses: { 200: { json: apiKeyListSchema } },
    },
    async (req, res) => {
      const project = await managedProject(deps, principalOf(res), req.params.projectId);
      res.json(await listApiKeys(deps, project.id));
    },
  );

  routes.route(
    {
      method: 'delete',
      path: '/projects/:projectId/keys/:keyId',
      summary: 'Revoke a key of the project (admin)',
      tag,
      responses: { 200: { json: deletedSchema('key.deleted') } },
    },
    async (req, res) => {
      const project = await managedProject(deps, principalOf(res), req.params.projectId);
      await revokeKey(deps, req.params.keyId, project.id);
      res.json({ id: req.params.keyId, object: 'key.deleted', deleted: true });
    },
  );

  routes.route(
    {
      method: 'post',
      path: '/projects/:projectId/catalog',
      summary:
        "Replace the project's product catalog (JSON, or CSV as text); an unchanged upload is skipped (admin)",
      tag,
      body: catalogImportSchema,
      textBody: ['text/csv'],
      responses: { 200: { json: catalogImportResultSchema } },
    },
    async (req, res, { body }) => {
      res.json(await importProjectCatalog(deps, principalOf(res), req.params.projectId, body));
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/projects/:projectId/catalog',
      summary: "What the project's product catalog holds: its size and last import (admin)",
      tag,
      responses: { 200: { json: catalogSchema } },
    },
    async (req, res) => {
      res.json(await retrieveProjectCatalog(deps, principalOf(res), req.params.projectId));
    },
  );

  return routes;
}
