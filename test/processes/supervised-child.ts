// One child of the supervision tests: a service whose shutdown takes CHILD_STOP_MS, with the signal handling of
// every Threadwork service (`handleSignals`).
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, handleSignals } from '@threadwork/shared';

const name = process.argv[2] ?? 'child';
const log = createLogger({ name, level: 'info', pretty: false });
handleSignals({ close: () => sleep(Number(process.env.CHILD_STOP_MS)) }, log, 120_000);
setInterval(() => {}, 60_000);
log.info({ child: name }, 'child ready');
