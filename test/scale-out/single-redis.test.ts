// The scale-out suite on a single Redis and a direct Postgres.
import { describeScaleOut } from './scale-out-suite.js';

describeScaleOut('single-redis+direct-postgres');
