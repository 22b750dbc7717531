// vitest globalSetup: find or start Postgres and Redis, migrate the template database, share the URLs.
import type { TestProject } from 'vitest/node';
import { dropDatabase, newTemplateName, prepareTemplate } from './database.js';
import './provided-context.js';
import { provideServices } from './services.js';

export default async function setup(project: TestProject) {
  const services = await provideServices();
  const template = newTemplateName();
  await prepareTemplate(services.databaseUrl, template);
  project.provide('databaseServerUrl', services.databaseUrl);
  project.provide('redisUrl', services.redisUrl);
  project.provide('templateDatabase', template);
  return async () => {
    await dropDatabase(services.databaseUrl, template);
    await services.stop();
  };
}
