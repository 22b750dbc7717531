// The V8 flags the API process runs with, wherever it is started: `npm start`, its package's start script (the
// container's command) and the bench all pass these.

/** The young generation's semi-spaces, in MiB (V8's default lets each grow to 16). */
export const SEMI_SPACE_MIB = 4;

/**
 * Young-generation semi-spaces capped at 4 MiB: thousands of SSE streams opened in a burst otherwise leave a young
 * generation of tens of MiB behind, 4–8 KiB for each open stream (RSS per stream 22.8 → 13.8 KiB at 10,000 streams
 * in the bench, for about 4 % more CPU per request). docs/performance.md has the measurements.
 */
export const apiNodeFlags = [`--max-semi-space-size=${SEMI_SPACE_MIB}`];
