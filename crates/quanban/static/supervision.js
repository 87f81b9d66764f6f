// The supervision trend as a chart (uPlot, served by the platform; static/vendor). The same
// figures are in the table under it, which is what a screen reader and a page without
// JavaScript get.
(function () {
  'use strict';
  var box = document.getElementById('trend-chart');
  var data = document.getElementById('trend-data');
  if (!box || !data || typeof uPlot === 'undefined') return;
  var days = JSON.parse(data.textContent || '[]');
  if (!days.length) return;
  var labels = box.getAttribute('data-labels').split('|');
  // Noon Beijing time of each day, in seconds: the axis then shows the right calendar day.
  var xs = days.map(function (d) { return Date.parse(d.day + 'T12:00:00+08:00') / 1000; });
  var series = [
    { label: labels[3] },
    { label: labels[0], stroke: '#0b5cad', width: 2 },
    { label: labels[1], stroke: '#2e7d32', width: 2 },
    { label: labels[2], stroke: '#b3261e', width: 2, dash: [6, 4] },
  ];
  function width() { return Math.max(280, box.clientWidth); }
  var chart = new uPlot({
    width: width(),
    height: 260,
    series: series,
    tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), 'Asia/Shanghai'); },
    // Counts are whole numbers: no 0.2 ticks.
    axes: [{}, { size: 40, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000] }],
    scales: { x: { time: true } },
  }, [xs, days.map(function (d) { return d.submitted; }), days.map(function (d) { return d.decided; }),
      days.map(function (d) { return d.late; })], box);
  window.addEventListener('resize', function () { chart.setSize({ width: width(), height: 260 }); });
})();
