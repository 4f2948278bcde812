// The TypeScript build emits only .js; this copies the non-TypeScript assets the code loads at
// run time (dashboard files, Lua scripts, JSON) from src/ to dist/src/, keeping their paths.
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';

const ASSET_EXTENSIONS = new Set(['.html', '.css', '.js', '.mjs', '.svg', '.png', '.ico', '.lua', '.json', '.txt']);
let copied = 0;

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (ASSET_EXTENSIONS.has(extname(name)) && !name.endsWith('.d.ts')) {
      cpSync(path, join('dist', path));
      copied++;
    }
  }
}

for (const root of ['src', 'workers', 'connectors']) if (existsSync(root)) walk(root);
console.log(`copied ${copied} asset file(s) to dist/ (${relative(process.cwd(), 'dist')})`);
