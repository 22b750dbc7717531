// The scale-out suite on a 3-master Redis Cluster and pgbouncer in transaction mode.
import { describeScaleOut } from './scale-out-suite.js';

describeScaleOut('redis-cluster+pgbouncer');
