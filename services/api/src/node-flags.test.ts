import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apiNodeFlags } from './node-flags.js';

describe('apiNodeFlags', () => {
  it('are passed by the package start script the container runs, as npm start and the bench pass them', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      scripts: { start: string };
    };
    const [command, ...args] = manifest.scripts.start.split(' ');
    expect(command).toBe('node');
    expect(args.slice(0, apiNodeFlags.length)).toEqual(apiNodeFlags);
  });
});
