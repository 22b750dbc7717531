// /v1/vector_stores: stores, their files, file batches and search.
import { backendPrincipalOf } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { listQuerySchema } from '../schemas/common.js';
import { deletedSchema, listPageSchema } from '../schemas/objects.js';
import {
  addStoreFileSchema,
  createFileBatchSchema,
  createVectorStoreSchema,
  fileBatchObjectSchema,
  listStoreFilesQuerySchema,
  modifyVectorStoreSchema,
  searchResultsPageSchema,
  searchVectorStoreSchema,
  updateStoreFileSchema,
  vectorStoreFileObjectSchema,
  vectorStoreObjectSchema,
} from '../schemas/vector-stores.js';
import {
  addStoreFile,
  cancelFileBatch,
  createFileBatch,
  listStoreFiles,
  removeStoreFile,
  retrieveFileBatch,
  retrieveStoreFile,
  updateStoreFile,
} from '../services/vector-store-files.js';
import {
  createVectorStore,
  listVectorStores,
  modifyVectorStore,
  removeVectorStore,
  retrieveVectorStore,
  searchVectorStore,
} from '../services/vector-stores.js';
import { RouteSet } from './route.js';

const tag = 'Vector stores';
const what = 'vector stores';

export function vectorStoresRoutes(deps: AppDeps): RouteSet {
  const routes = new RouteSet();
  /** The SDK's pollers wait this long between reads of a store file or batch still in progress. */
  const pollAfter = String(deps.config.POLL_AFTER_MS);

  routes.route(
    {
      method: 'post',
      path: '/vector_stores',
      summary: 'Create a vector store',
      tag,
      body: createVectorStoreSchema,
      isBodyOptional: true,
      responses: { 200: { json: vectorStoreObjectSchema } },
    },
    async (_req, res, { body }) => {
      res.json(await createVectorStore(deps, backendPrincipalOf(res, what), body));
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/vector_stores',
      summary: 'List vector stores',
      tag,
      query: listQuerySchema,
      responses: { 200: { json: listPageSchema(vectorStoreObjectSchema) } },
    },
    async (_req, res, { query }) => {
      res.json(await listVectorStores(deps, backendPrincipalOf(res, what), query));
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/vector_stores/:vectorStoreId',
      summary: 'Retrieve a vector store',
      tag,
      responses: { 200: { json: vectorStoreObjectSchema } },
    },
    async (req, res) => {
      res.json(await retrieveVectorStore(deps, backendPrincipalOf(res, what), req.params.vectorStoreId));
    },
  );

  routes.route(
    {
      method: 'post',
      path: '/vector_stores/:vectorStoreId',
      summary: 'Modify a vector store',
      tag,
      body: modifyVectorStoreSchema,
      isBodyOptional: true,
      responses: { 200: { json: vectorStoreObjectSchema } },
    },
    async (req, res, { body }) => {
      res.json(await modifyVectorStore(deps, backendPrincipalOf(res, what), req.params.vectorStoreId, body));
    },
  );

  routes.route(
    {
      method: 'delete',
      path: '/vector_stores/:vectorStoreId',
      summary: 'Delete a vector store (its files stay)',
      tag,
      responses: { 200: { json: deletedSchema('vector_store.deleted') } },
    },
    async (req, res) => {
      await removeVectorStore(deps, backendPrincipalOf(res, what), req.params.vectorStoreId);
      res.json({ id: req.params.vectorStoreId, object: 'vector_store.deleted', deleted: true });
    },
  );

  routes.route(
    {
      method: 'post',
      path: '/vector_stores/:vectorStoreId/search',
      summary: 'Search a vector store',
      tag,
      body: searchVectorStoreSchema,
      responses: { 200: { json: searchResultsPageSchema } },
    },
    async (req, res, { body }) => {
      res.json(await searchVectorStore(deps, backendPrincipalOf(res, what), req.params.vectorStoreId, body));
    },
  );

  routes.route(
    {
      method: 'post',
      path: '/vector_stores/:vectorStoreId/files',
      summary: 'Add a file to a vector store (ingested by the ingest worker)',
      tag,
      body: addStoreFileSchema,
      responses: { 200: { json: vectorStoreFileObjectSchema } },
    },
    async (req, res, { body }) => {
      res.json(await addStoreFile(deps, backendPrincipalOf(res, what), req.params.vectorStoreId, body));
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/vector_stores/:vectorStoreId/files',
      summary: "List a vector store's files",
      tag,
      query: listStoreFilesQuerySchema,
      responses: { 200: { json: listPageSchema(vectorStoreFileObjectSchema) } },
    },
    async (req, res, { query }) => {
      const scope = { vectorStoreId: req.params.vectorStoreId };
      res.json(await listStoreFiles(deps, backendPrincipalOf(res, what), scope, query));
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/vector_stores/:vectorStoreId/files/:fileId',
      summary: 'Retrieve a vector store file',
      tag,
      responses: { 200: { json: vectorStoreFileObjectSchema } },
    },
    async (req, res) => {
      const { vectorStoreId, fileId } = req.params;
      const object = await retrieveStoreFile(deps, backendPrincipalOf(res, what), vectorStoreId, fileId);
      if (object.status === 'in_progress') res.set('openai-poll-after-ms', pollAfter);
      res.json(object);
    },
  );

  routes.route(
    {
      method: 'post',
      path: '/vector_stores/:vectorStoreId/files/:fileId',
      summary: "Update a vector store file's attributes",
      tag,
      body: updateStoreFileSchema,
      responses: { 200: { json: vectorStoreFileObjectSchema } },
    },
    async (req, res, { body }) => {
      const { vectorStoreId, fileId } = req.params;
      const principal = backendPrincipalOf(res, what);
      res.json(await updateStoreFile(deps, principal, { vectorStoreId, fileId }, body.attributes));
    },
  );

  routes.route(
    {
      method: 'delete',
      path: '/vector_stores/:vectorStoreId/files/:fileId',
      summary: 'Remove a file from a vector store (the file stays)',
      tag,
      responses: { 200: { json: deletedSchema('vector_store.file.deleted') } },
    },
    async (req, res) => {
      const { vectorStoreId, fileId } = req.params;
      await removeStoreFile(deps, backendPrincipalOf(res, what), { vectorStoreId, fileId });
      res.json({ id: fileId, object: 'vector_store.file.deleted', deleted: true });
    },
  );

  routes.route(
    {
      method: 'post',
      path: '/vector_stores/:vectorStoreId/file_batches',
      summary: 'Add a batch of files to a vector store',
      tag,
      body: createFileBatchSchema,
      responses: { 200: { json: fileBatchObjectSchema } },
    },
    async (req, res, { body }) => {
      res.json(await createFileBatch(deps, backendPrincipalOf(res, what), req.params.vectorStoreId, body));
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/vector_stores/:vectorStoreId/file_batches/:batchId',
      summary: 'Retrieve a file batch',
      tag,
      responses: { 200: { json: fileBatchObjectSchema } },
    },
    async (req, res) => {
      const { vectorStoreId, batchId } = req.params;
      const object = await retrieveFileBatch(deps, backendPrincipalOf(res, what), vectorStoreId, batchId);
      if (object.status === 'in_progress') res.set('openai-poll-after-ms', pollAfter);
      res.json(object);
    },
  );

  routes.route(
    {
      method: 'post',
      path: '/vector_stores/:vectorStoreId/file_batches/:batchId/cancel',
      summary: 'Cancel a file batch',
      tag,
      responses: { 200: { json: fileBatchObjectSchema } },
    },
    async (req, res) => {
      const { vectorStoreId, batchId } = req.params;
      res.json(await cancelFileBatch(deps, backendPrincipalOf(res, what), vectorStoreId, batchId));
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/vector_stores/:vectorStoreId/file_batches/:batchId/files',
      summary: "List a file batch's files",
      tag,
      query: listStoreFilesQuerySchema,
      responses: { 200: { json: listPageSchema(vectorStoreFileObjectSchema) } },
    },
    async (req, res, { query }) => {
      const { vectorStoreId, batchId } = req.params;
      res.json(await listStoreFiles(deps, backendPrincipalOf(res, what), { vectorStoreId, batchId }, query));
    },
  );

  return routes;
}
