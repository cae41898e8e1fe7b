// Browser-side script of the report: draws every ChartSpec (see report-charts.ts) with uPlot.
// Kept as a plain ES2017 string so the HTML needs nothing but the inlined uPlot build.
export const REPORT_CLIENT_JS = String.raw`
(function () {
  var model = JSON.parse(document.getElementById('ofq-data').textContent);
  var palette = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d',
                 '#475569', '#ea580c', '#4f46e5', '#059669', '#b91c1c', '#a16207', '#9333ea', '#0e7490'];
  function color(i) { return palette[i % palette.length]; }
  function alpha(hex, a) {
    var n = parseInt(hex.slice(1), 16);
    return 'rgba(' + (n >> 16) + ',' + ((n >> 8) & 255) + ',' + (n & 255) + ',' + a + ')';
  }
  function fmt(v) {
    if (v == null || !isFinite(v)) return '–';
    var a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
    return +v.toPrecision(4) + '';
  }
  var plots = [];
  function widthOf(el) { return Math.max(280, el.clientWidth - 8); }
  model.charts.forEach(function (spec) {
    var el = document.getElementById('chart-' + spec.id);
    var series = [{ label: spec.xLabel, value: function (u, v) { return fmt(v); } }];
    spec.series.forEach(function (s, i) {
      var c = color(i);
      var opt = { label: s.label, stroke: c, width: s.histogram ? 1.5 : 1.6, spanGaps: true,
                  value: function (u, v) { return fmt(v); } };
      if (s.dash) opt.dash = [6, 4];
      if (s.histogram) {
        opt.paths = uPlot.paths.stepped({ align: 1 });
        opt.fill = alpha(c, 0.18);
        opt.points = { show: false };
      }
      series.push(opt);
    });
    var opts = {
      width: widthOf(el), height: 260,
      series: series,
      scales: { x: { time: false }, y: spec.zeroY ? { range: function (u, min, max) { return [0, max > 0 ? max * 1.08 : 1]; } } : {} },
      axes: [
        { label: spec.xLabel, stroke: '#475569', grid: { stroke: '#e2e8f0' }, ticks: { stroke: '#cbd5e1' } },
        { label: spec.yLabel, stroke: '#475569', grid: { stroke: '#e2e8f0' }, ticks: { stroke: '#cbd5e1' }, size: 60,
          values: function (u, vals) { return vals.map(fmt); } }
      ],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } }
    };
    var data = [spec.x].concat(spec.series.map(function (s) { return s.values; }));
    var plot = new uPlot(opts, data, el);
    plot.root.setAttribute('data-chart', spec.id);
    plots.push({ plot: plot, el: el });
  });
  var pending = 0;
  window.addEventListener('resize', function () {
    clearTimeout(pending);
    pending = setTimeout(function () {
      plots.forEach(function (p) { p.plot.setSize({ width: widthOf(p.el), height: 260 }); });
    }, 100);
  });
  document.body.setAttribute('data-rendered', String(plots.length));
})();
`;
