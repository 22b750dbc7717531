// /admin: API keys (create, list, revoke) and the product catalog import. Admin keys only.

import { newId, notFound, schema } from '@threadwork/shared';
import { catalogImportSchema, importCatalog } from '@threadwork/shared/catalog';
import { and, desc, eq, isNull } from 'drizzle-orm';
import express, { Router } from 'express';
import { z } from 'zod';
import { generateKey, hashKey, requireAdmin } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { parseInput } from '../errors.js';

const createKeySchema = z.strictObject({
  name: z.string().min(1).max(200),
  role: z.enum(['user', 'admin']).default('user'),
});

const CATALOG_BODY_LIMIT = '20mb';

/** Catalog uploads (JSON, or CSV as text) may be larger than ordinary requests: parsed before the global parser. */
export const catalogBodyParsers = [
  express.json({ limit: CATALOG_BODY_LIMIT }),
  express.text({ type: ['text/csv', 'text/plain'], limit: CATALOG_BODY_LIMIT }),
];

export function adminRouter(deps: AppDeps): Router {
  const router = Router();
  router.use(requireAdmin);

  router.post('/keys', async (req, res) => {
    const input = parseInput(createKeySchema, req.body);
    const key = generateKey();
    const id = newId('apiKey');
    await deps.db
      .insert(schema.apiKeys)
      .values({ id, name: input.name, role: input.role, keyHash: hashKey(key) });
    res.status(201).json({ id, name: input.name, role: input.role, key });
  });

  router.post('/catalog', async (req, res) => {
    const body: unknown = req.body;
    const input = typeof body === 'string' ? body : parseInput(catalogImportSchema, body);
    res.json(await importCatalog(deps.db, input));
  });

  router.get('/keys', async (_req, res) => {
    const rows = await deps.db
      .select({
        id: schema.apiKeys.id,
        name: schema.apiKeys.name,
        role: schema.apiKeys.role,
        createdAt: schema.apiKeys.createdAt,
      })
      .from(schema.apiKeys)
      .where(isNull(schema.apiKeys.revokedAt))
      .orderBy(desc(schema.apiKeys.id));
    res.json({
      object: 'list',
      data: rows.map((row) => ({
        id: row.id,
        name: row.name,
        role: row.role,
        created_at: Math.floor(row.createdAt.getTime() / 1000),
      })),
    });
  });

  router.delete('/keys/:keyId', async (req, res) => {
    const rows = await deps.db
      .update(schema.apiKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(schema.apiKeys.id, req.params.keyId), isNull(schema.apiKeys.revokedAt)))
      .returning({ id: schema.apiKeys.id });
    if (rows.length === 0) throw notFound('key', req.params.keyId);
    await deps.keys.revoke(deps.redis, req.params.keyId);
    res.json({ id: req.params.keyId, object: 'key.deleted', deleted: true });
  });

  return router;
}
