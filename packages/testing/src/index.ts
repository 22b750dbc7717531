// Test support shared by every service's tests.
export * from './database.js';
export * from './services.js';
