// The shared package's public surface.
export * from './config.js';
export * from './db/client.js';
export * from './db/migrate.js';
export * as schema from './db/schema.js';
export * from './errors.js';
export * from './events.js';
export * from './ids.js';
export * from './logger.js';
export * from './objects.js';
export * from './queues.js';
export * from './redis.js';
export * from './run-status.js';
export * from './subscriber.js';
export * from './tools.js';
export * from './wire.js';
export * from './models.js';
