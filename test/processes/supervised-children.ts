// A supervisor over two child processes (`supervised-child.ts`), wired to signals as `npm start` wires its
// services, for the supervision tests.
import { createLogger } from '@threadwork/shared';
import { processSeams, stopOnSignals, supervise } from '../../scripts/supervisor.js';

const log = createLogger({ name: 'supervisor', level: 'info', pretty: false });
const seams = processSeams(
  (name) => ({
    args: ['--import', 'tsx', 'test/processes/supervised-child.ts', name],
    cwd: process.cwd(),
    env: process.env,
  }),
  log,
);
const supervisor = supervise(['first', 'second'], {
  ...seams,
  policy: { initialDelayMs: 200, maxDelayMs: 1_000, resetAfterMs: 60_000 },
});
stopOnSignals(supervisor);
supervisor.stopped.then((code) => process.exit(code));
