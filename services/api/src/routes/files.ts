// /v1/files: upload (multipart, streamed), list, retrieve, content, delete.
import type { RequestHandler } from 'express';
import { backendPrincipalOf } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { fileObjectSchema, listFilesQuerySchema, uploadFormSchema } from '../schemas/files.js';
import { deletedSchema, listPageSchema } from '../schemas/objects.js';
import {
  listFiles,
  removeFile,
  retrieveFile,
  sendFileContent,
  toFileObject,
  uploadFile,
} from '../services/files.js';
import { RouteSet } from './route.js';

const tag = 'Files';
const what = 'files';

/** Uploads are streamed by their route: the body reader leaves a multipart POST /files unread. */
export function exceptUploads(readBody: RequestHandler): RequestHandler {
  return (req, res, next) => {
    if (req.method === 'POST' && req.path === '/files' && req.is('multipart/form-data')) return next();
    return readBody(req, res, next);
  };
}

export function filesRoutes(deps: AppDeps): RouteSet {
  const routes = new RouteSet();

  routes.route(
    {
      method: 'post',
      path: '/files',
      summary: 'Upload a file',
      tag,
      multipartBody: uploadFormSchema,
      responses: { 200: { json: fileObjectSchema } },
    },
    async (req, res) => {
      res.json(toFileObject(await uploadFile(deps, backendPrincipalOf(res, what), req)));
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/files',
      summary: 'List files',
      tag,
      query: listFilesQuerySchema,
      responses: { 200: { json: listPageSchema(fileObjectSchema) } },
    },
    async (_req, res, { query }) => {
      res.json(await listFiles(deps, backendPrincipalOf(res, what), query));
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/files/:fileId',
      summary: 'Retrieve a file',
      tag,
      responses: { 200: { json: fileObjectSchema } },
    },
    async (req, res) => {
      res.json(toFileObject(await retrieveFile(deps, backendPrincipalOf(res, what), req.params.fileId)));
    },
  );

  routes.route(
    {
      method: 'get',
      path: '/files/:fileId/content',
      summary: "Retrieve a file's content",
      tag,
      responses: { 200: { binary: 'application/octet-stream' } },
    },
    async (req, res) => {
      await sendFileContent(deps, backendPrincipalOf(res, what), req.params.fileId, res);
    },
  );

  routes.route(
    {
      method: 'delete',
      path: '/files/:fileId',
      summary: 'Delete a file (and its chunks in every vector store)',
      tag,
      responses: { 200: { json: deletedSchema('file') } },
    },
    async (req, res) => {
      await removeFile(deps, backendPrincipalOf(res, what), req.params.fileId);
      res.json({ id: req.params.fileId, object: 'file', deleted: true });
    },
  );

  return routes;
}
