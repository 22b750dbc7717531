// The values globalSetup provides to every test file through vitest's inject().
import type {} from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseServerUrl: string;
    redisUrl: string;
    templateDatabase: string;
  }
}
