// The dashboard's trend (templates/dashboard.html) as a chart, drawn by uPlot (served by the
// platform; static/vendor). The same figures are in the table under it, which is what a screen
// reader and a page without JavaScript get.
(function () {
  'use strict';
  var box = document.getElementById('dashboard-chart');
  var data = document.getElementById('dashboard-data');
  if (!box || !data || typeof uPlot === 'undefined') return;
  var chart = JSON.parse(data.textContent || '{}');
  if (!chart.days || !chart.days.length) return;
  var labels = box.getAttribute('data-labels').split('|');
  // Noon Beijing time of each day, in seconds: the axis then shows the right calendar day.
  var xs = chart.days.map(function (d) { return Date.parse(d + 'T12:00:00+08:00') / 1000; });
  var series = [{ label: labels[0] }].concat(chart.series.map(function (s) {
    return { label: s.label, stroke: s.color, width: 2, dash: s.dash ? [6, 4] : undefined };
  }));
  function width() { return Math.max(280, box.clientWidth); }
  var plot = new uPlot({
    width: width(),
    height: 280,
    series: series,
    tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), 'Asia/Shanghai'); },
    // Counts are whole numbers: no 0.2 ticks.
    axes: [{}, { label: labels[1], size: 48, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000] }],
    scales: { x: { time: true } },
  }, [xs].concat(chart.series.map(function (s) { return s.values; })), box);
  window.addEventListener('resize', function () { plot.setSize({ width: width(), height: 280 }); });
})();
