import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apiNodeFlags, SEMI_SPACE_MIB } from './node-flags.js';

/** Churns through short-lived objects, then prints the young generation's size in bytes. */
const churn = `
  const keep = [];
  for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 50000) keep.splice(0, 25000); }
  const space = require('v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  process.stdout.write(String(space.space_size));
`;

function youngGenerationBytes(flags: string[]): number {
  return Number(execFileSync(process.execPath, [...flags, '-e', churn], { encoding: 'utf8' }));
}

describe('apiNodeFlags', () => {
  it('are passed by the package start script the container runs, as npm start and the bench pass them', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      scripts: { start: string };
    };
    const [command, ...args] = manifest.scripts.start.split(' ');
    expect(command).toBe('node');
    expect(args.slice(0, apiNodeFlags.length)).toEqual(apiNodeFlags);
  });

  it('keep the young generation within two semi-spaces under churn, where node’s defaults let it grow', () => {
    const capped = youngGenerationBytes(apiNodeFlags);
    expect(capped).toBeLessThanOrEqual(2 * SEMI_SPACE_MIB * 1024 * 1024);
    expect(youngGenerationBytes([])).toBeGreaterThan(capped);
  });
});
