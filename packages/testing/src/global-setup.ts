// vitest globalSetup: find or start Postgres and Redis, migrate the template database, share the URLs.
import type { TestProject } from 'vitest/node';
import { prepareTemplate } from './database.js';
import './provided-context.js';
import { provideServices } from './services.js';

export default async function setup(project: TestProject) {
  const services = await provideServices();
  await prepareTemplate(services.databaseUrl);
  project.provide('databaseServerUrl', services.databaseUrl);
  project.provide('redisUrl', services.redisUrl);
  return () => services.stop();
}
