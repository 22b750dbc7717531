// The V8 flags the API process runs with, wherever it is started: `npm start`, its package's start script (the
// container's command) and the bench all pass these.

/**
 * Young-generation semi-spaces capped at 4 MiB (V8 lets them grow to 16): thousands of SSE streams opened in a burst
 * otherwise leave a young generation of tens of MiB behind, 4–8 KiB for each open stream. In the bench it cost about
 * 4 % more CPU per request.
 */
export const apiNodeFlags = ['--max-semi-space-size=4'];
