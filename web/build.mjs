// build.mjs -- bundle the dashboard into dist/ with esbuild: dist/app.js
// (ECharts tree-shaken, minified), dist/app.css, dist/index.html and the
// third-party licence notices of everything bundled.  Run by scripts/web.sh
// (npm ci && npm run build); dist/ is committed so `stampede serve` works
// where npm is absent.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const out = new URL('./dist/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });
await build({
  entryPoints: ['src/main.js'],
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  outfile: out + 'app.js',
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync('src/app.css', out + 'app.css');
copyFileSync('index.html', out + 'index.html');
const notices = ['echarts', 'zrender', 'tslib'].map((p) => {
  const pkg = JSON.parse(readFileSync(`node_modules/${p}/package.json`, 'utf8'));
  let lic = '';
  for (const f of ['LICENSE', 'LICENSE.txt']) {
    try { lic = readFileSync(`node_modules/${p}/${f}`, 'utf8'); break; } catch { /* next */ }
  }
  return `==== ${p} ${pkg.version} (${pkg.license}) ====\n${lic}\n`;
});
let notice = '';
try { notice = readFileSync('node_modules/echarts/NOTICE', 'utf8'); } catch { /* none */ }
writeFileSync(out + 'THIRD_PARTY_LICENSES.txt',
  'dist/app.js bundles the packages below (npm, built by web/build.mjs).\n\n' + notices.join('\n') +
  (notice ? '==== echarts NOTICE ====\n' + notice : ''));
console.log('web: built', out);
