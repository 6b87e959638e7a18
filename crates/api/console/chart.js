// A small inline SVG chart of a flow's runs: bars of records written per run and a line of
// each run's duration, oldest run on the left. Drawn with DOM calls (no library, no inline
// style), labelled for screen readers.

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, text) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/** points: [{label, records, durationMs}] → an <svg>. */
export function runChart(points, { width = 640, height = 200 } = {}) {
  const margin = { top: 16, right: 56, bottom: 28, left: 56 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const maxRecords = Math.max(1, ...points.map((p) => p.records || 0));
  const maxDuration = Math.max(1, ...points.map((p) => p.durationMs || 0));
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'run-chart', role: 'img', 'aria-labelledby': 'run-chart-title' });
  chart.append(svg('title', { id: 'run-chart-title' }, `Records and duration of the last ${points.length} runs; most records ${maxRecords}, longest ${Math.round(maxDuration)} ms`));
  const plot = svg('g', { transform: `translate(${margin.left},${margin.top})` });
  chart.append(plot);
  plot.append(svg('line', { x1: 0, y1: plotHeight, x2: plotWidth, y2: plotHeight, class: 'axis' }));
  plot.append(svg('line', { x1: 0, y1: 0, x2: 0, y2: plotHeight, class: 'axis' }));
  plot.append(svg('text', { x: -8, y: 4, class: 'axis-label records', 'text-anchor': 'end' }, String(maxRecords)));
  plot.append(svg('text', { x: -8, y: plotHeight, class: 'axis-label records', 'text-anchor': 'end' }, '0'));
  plot.append(svg('text', { x: plotWidth + 8, y: 4, class: 'axis-label duration' }, `${(maxDuration / 1000).toFixed(1)} s`));
  plot.append(svg('text', { x: -margin.left + 4, y: plotHeight + 22, class: 'legend records' }, '■ records'));
  plot.append(svg('text', { x: plotWidth - 40, y: plotHeight + 22, class: 'legend duration' }, '● duration'));
  const slot = points.length ? plotWidth / points.length : plotWidth;
  const line = [];
  points.forEach((point, index) => {
    const barHeight = ((point.records || 0) / maxRecords) * plotHeight;
    const x = index * slot;
    const barWidth = Math.max(1, Math.min(48, slot * 0.7));
    const bar = svg('rect', { x: x + (slot - barWidth) / 2, y: plotHeight - barHeight, width: barWidth, height: barHeight, class: `bar status-${point.status || ''}` });
    bar.append(svg('title', {}, `${point.label}: ${point.records || 0} records, ${Math.round(point.durationMs || 0)} ms`));
    plot.append(bar);
    if (point.durationMs !== null && point.durationMs !== undefined) {
      line.push([x + slot / 2, plotHeight - (point.durationMs / maxDuration) * plotHeight]);
    }
  });
  if (line.length) {
    plot.append(svg('polyline', { points: line.map(([x, y]) => `${x},${y}`).join(' '), class: 'duration-line' }));
    for (const [x, y] of line) plot.append(svg('circle', { cx: x, cy: y, r: 3, class: 'duration-dot' }));
  }
  return chart;
}
