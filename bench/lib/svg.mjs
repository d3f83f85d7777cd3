/**
 * The ratio chart (bench/results/ratios.svg) as hand-written SVG: one row per metric, bars on a log
 * scale growing from 1.0 (parity with the baseline), so 2x and 0.5x are the same length.
 */
const COLORS = {
  'natter-sqlite÷ws': '#1f6feb',
  'natter-sqlite÷Socket.IO': '#d29922',
  'natter-memory÷ws': '#8ab4f8',
  'natter-memory÷Socket.IO': '#f2cc60',
};
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderSvg(results) {
  const rows = [];
  // Storage and cross-node ratios have other baselines (raw SQLite, the 1-node cluster): tables only.
  for (const r of results.ratios.filter((x) => x.scenario !== 'storage' && x.scenario !== 'crossNode')) {
    let row = rows.find((x) => x.label === r.label);
    if (!row) {
      row = { label: r.label, better: r.better, bars: [] };
      rows.push(row);
    }
    row.bars.push(
      { key: `${r.natter}÷ws`, value: r.vsWs },
      { key: `${r.natter}÷Socket.IO`, value: r.vsSocketio },
    );
  }
  const values = rows
    .flatMap((r) => r.bars.map((b) => b.value))
    .filter((v) => typeof v === 'number' && v > 0);
  const lo = Math.floor(Math.log10(Math.min(0.1, ...values)));
  const hi = Math.ceil(Math.log10(Math.max(10, ...values)));
  const labelW = 300;
  const plotW = 560;
  const barH = 7;
  const rowH = 4 * barH + 12;
  const top = 70;
  const height = top + rows.length * rowH + 40;
  const width = labelW + plotW + 40;
  const x = (v) => labelW + ((Math.log10(v) - lo) / (hi - lo)) * plotW;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">natter ÷ baseline, same run (${esc(results.mode)}, ${esc(results.generatedAt)})</text>`,
    `<text x="10" y="40" fill="#555">log scale; ↓ = lower is better, ↑ = higher is better; 1.0 = parity</text>`,
  ];
  let lx = 10;
  for (const [key, color] of Object.entries(COLORS)) {
    parts.push(
      `<rect x="${lx}" y="50" width="10" height="10" fill="${color}"/><text x="${lx + 14}" y="59">${esc(key)}</text>`,
    );
    lx += 190;
  }
  for (let p = lo; p <= hi; p++) {
    const gx = x(10 ** p);
    parts.push(
      `<line x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${height - 30}" stroke="${p === 0 ? '#000' : '#ddd'}"/>`,
    );
    parts.push(`<text x="${gx}" y="${height - 14}" text-anchor="middle" fill="#555">${10 ** p}</text>`);
  }
  rows.forEach((row, i) => {
    const y = top + i * rowH;
    parts.push(
      `<text x="${labelW - 8}" y="${y + 2 * barH + 4}" text-anchor="end">${esc(row.label)} ${row.better === 'lower' ? '↓' : '↑'}</text>`,
    );
    row.bars.forEach((bar, j) => {
      if (typeof bar.value !== 'number' || bar.value <= 0) return;
      const from = x(1);
      const to = x(bar.value);
      const by = y + j * barH;
      parts.push(
        `<rect x="${Math.min(from, to)}" y="${by}" width="${Math.max(1, Math.abs(to - from))}" height="${barH - 1}" fill="${COLORS[bar.key]}"><title>${esc(`${bar.key}: ${bar.value}`)}</title></rect>`,
      );
      parts.push(
        `<text x="${Math.max(from, to) + 3}" y="${by + barH - 1}" font-size="8" fill="#333">${bar.value}</text>`,
      );
    });
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
