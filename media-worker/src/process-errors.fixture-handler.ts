/**
 * A handler module for process-errors.test.ts: the echo demo, plus failures outside any pipeline.
 * At load it leaves a rejected promise nobody awaits; on SIGUSR2 it throws from a timer.
 */
import echo from './handlers/echo.ts';

setTimeout(() => {
  void Promise.reject(new Error('fixture: a rejection nobody awaited'));
}, 10);
process.on('SIGUSR2', () => {
  setTimeout(() => {
    throw new Error('fixture: thrown from a timer');
  }, 10);
});

export default echo;
