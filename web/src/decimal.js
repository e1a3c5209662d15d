// decimal.js -- exact decimal text arithmetic for the calculator's inputs:
// the position size margin x leverage / entry at 8 decimals, rounded down
// (as `stampede demo`'s leverage table sizes it), with BigInt so no float
// ever touches a price.
const SCALE = 8n;
const TEN8 = 10n ** SCALE;

// "62500.5" -> 6250050000000n (scale 8); throws on anything else.
export function parseDec(s) {
  const m = /^(\d+)(?:\.(\d{1,8}))?$/.exec(String(s).trim());
  if (!m) throw new Error(`not a positive decimal with at most 8 places: "${s}"`);
  return BigInt(m[1]) * TEN8 + BigInt((m[2] ?? '').padEnd(8, '0'));
}

export function formatDec(v) {
  const neg = v < 0n, a = neg ? -v : v;
  const i = a / TEN8, f = (a % TEN8).toString().padStart(8, '0').replace(/0+$/, '');
  return (neg ? '-' : '') + i.toString() + (f ? '.' + f : '');
}

// size in base units = margin x lev / entry, rounded down to 1e-8
export function qtyFor(margin, lev, entry) {
  const m = parseDec(margin), e = parseDec(entry);
  if (e === 0n) throw new Error('entry must be positive');
  return formatDec((m * BigInt(lev) * TEN8) / e);
}
