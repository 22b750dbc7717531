// A supervisor over two tiny child processes, wired to signals as `npm start` wires its services (for the
// supervision tests). A child logs when it is ready and when a signal starts its shutdown, which takes
// CHILD_STOP_MS; a second signal ends it at once with 1, as a service's second signal does.
import { createLogger } from '@threadwork/shared';
import { processSeams, stopOnSignals, supervise } from '../../scripts/supervisor.js';

const child = `
const say = (msg) => console.log(JSON.stringify({ msg, child: process.argv[1], pid: process.pid }));
let stopping = false;
const stop = () => {
  if (stopping) process.exit(1);
  stopping = true;
  say('child stopping');
  setTimeout(() => process.exit(0), Number(process.env.CHILD_STOP_MS));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setInterval(() => {}, 60_000);
say('child ready');
`;

const log = createLogger({ name: 'supervisor', level: 'info', pretty: false });
const seams = processSeams(
  (name) => ({ args: ['-e', child, name], cwd: process.cwd(), env: process.env }),
  log,
);
const supervisor = supervise(['first', 'second'], {
  ...seams,
  policy: { initialDelayMs: 200, maxDelayMs: 1_000, resetAfterMs: 60_000 },
});
stopOnSignals(supervisor);
supervisor.stopped.then((code) => process.exit(code));
