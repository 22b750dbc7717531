// The API process: start-up and shutdown only.
import { runService } from '@threadwork/shared';
import { startApi } from './server.js';

await runService('api', startApi);
