// Preloaded into a child tool worker: on SIGUSR2 it leaves a rejection unhandled and throws an uncaught exception.
process.on('SIGUSR2', () => {
  void Promise.reject(new Error('a stray rejection'));
  throw new Error('a stray exception');
});
