import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The Dockerfile cannot be built here (no Docker engine): these checks read it.

const ROOT = join(import.meta.dirname, '..', '..', '..');

interface Instruction {
  op: string;
  args: string;
  line: number;
}

/** Instructions with line continuations joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buffer = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (buffer === '' && (line === '' || line.startsWith('#'))) return;
    if (buffer === '') start = i + 1;
    if (line.startsWith('#')) return;
    buffer += ` ${line.replace(/\\$/, '')}`;
    if (!line.endsWith('\\')) {
      const [op = '', ...rest] = buffer.trim().split(/\s+/);
      out.push({ op: op.toUpperCase(), args: rest.join(' '), line: start });
      buffer = '';
    }
  });
  return out;
}

/** Splits instructions into stages (one per FROM). */
function stages(instructions: Instruction[]): { from: string; name?: string; body: Instruction[] }[] {
  const out: { from: string; name?: string; body: Instruction[] }[] = [];
  for (const ins of instructions) {
    if (ins.op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(ins.args)!;
      out.push({ from: m[1]!, name: m[2], body: [] });
    } else out.at(-1)?.body.push(ins);
  }
  return out;
}

/** Patterns of .dockerignore (simple names and globs at the root, as this repo uses). */
function ignored(path: string, patterns: string[]): boolean {
  const first = path.split('/')[0]!;
  return patterns.some((p) => {
    if (p.includes('*')) return new RegExp(`^${p.replace(/\./g, '\\.').replace(/\*/g, '[^/]*')}$`).test(first);
    return p === first || p === path;
  });
}

const instructions = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const all = stages(instructions);
const runtime = all.at(-1)!;
const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

describe('Dockerfile', () => {
  it('is multi-stage: deps (npm ci), build (npm run build), runtime on node:20-slim', () => {
    expect(all.map((s) => s.name)).toEqual(['deps', 'build', 'runtime']);
    const runs = (s: (typeof all)[number]) => s.body.filter((i) => i.op === 'RUN').map((i) => i.args).join(' && ');
    expect(runs(all[0]!)).toMatch(/npm ci\b/);
    expect(runs(all[1]!)).toMatch(/npm run build/);
    expect(runtime.from).toBe('node:20-slim');
    expect(runs(runtime)).toMatch(/npm ci --omit=dev/);
    // The runtime takes compiled code from the build stage, never the compiler or the sources.
    const copies = runtime.body.filter((i) => i.op === 'COPY').map((i) => i.args);
    expect(copies).toContain('--from=build /app/dist ./dist');
    expect(copies.some((c) => /\bsrc\b|\btest\b|tsconfig/.test(c))).toBe(false);
  });

  it('runs as the non-root node user, in production mode, stopped with SIGTERM', () => {
    const users = runtime.body.filter((i) => i.op === 'USER');
    expect(users.at(-1)?.args).toBe('node');
    const userAt = runtime.body.indexOf(users.at(-1)!);
    // Nothing after USER switches back to root.
    expect(runtime.body.slice(userAt + 1).some((i) => i.op === 'USER')).toBe(false);
    expect(runtime.body.find((i) => i.op === 'ENV')?.args).toMatch(/NODE_ENV=production/);
    expect(runtime.body.find((i) => i.op === 'STOPSIGNAL')?.args).toBe('SIGTERM');
  });

  it('starts the role launcher and health-checks with node (no curl in slim)', () => {
    expect(runtime.body.find((i) => i.op === 'CMD')?.args).toBe('["node", "scripts/start-role.mjs"]');
    const health = runtime.body.find((i) => i.op === 'HEALTHCHECK')?.args ?? '';
    expect(health).toMatch(/CMD \["node", "scripts\/start-role\.mjs", "--healthcheck"\]/);
    expect(health).not.toMatch(/curl|wget/);
  });

  it('ships the price table the workers load at run time', () => {
    expect(runtime.body.filter((i) => i.op === 'COPY').map((i) => i.args)).toContain('prices.json ./');
  });

  it('copies only files that exist and that .dockerignore lets into the build context', () => {
    const sources = instructions
      .filter((i) => i.op === 'COPY' && !i.args.includes('--from='))
      .flatMap((i) => i.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1));
    expect(sources.length).toBeGreaterThan(5);
    for (const src of sources) {
      expect(existsSync(join(ROOT, src)), `${src} exists`).toBe(true);
      expect(ignored(src.replace(/\/$/, ''), dockerignore), `${src} is not in .dockerignore`).toBe(false);
    }
  });

  it('keeps secrets and local state out of the build context', () => {
    for (const path of ['.env', '.env.production', 'node_modules', '.git', '.jobscope', 'dist']) {
      expect(ignored(path, dockerignore), path).toBe(true);
    }
  });
});
