// Test support shared by every service's tests.
import './provided-context.js';

export * from './database.js';
export * from './documents.js';
export * from './per-file.js';
export * from './rows.js';
export * from './services.js';
export * from './wait.js';
