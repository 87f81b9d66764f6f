// Kiosk mode: after 90 seconds without a touch or key the session ends and everything the
// last person left is cleared (a POST to /kiosk/leave logs out; the page then returns to the
// kiosk's home). Twenty seconds before, a warning counts down and 继续使用 keeps the session;
// 结束服务 ends it at once. The POST carries the X-Kiosk header, which another site cannot send.
// A heartbeat every minute tells the registry the device is alive.
(function () {
  var IDLE_MS = 90 * 1000;
  var WARN_MS = 20 * 1000;
  var idle, warn, tick;
  var warning = document.getElementById('kiosk-warning');
  var countdown = document.getElementById('kiosk-countdown');
  function leave() {
    try { sessionStorage.clear(); localStorage.clear(); } catch (e) {}
    fetch('/kiosk/leave', { method: 'POST', headers: { 'X-Kiosk': '1' }, credentials: 'same-origin' })
      .then(function (r) { window.location.href = r.url || '/'; })
      .catch(function () { window.location.href = '/'; });
  }
  function showWarning() {
    if (!warning) return;
    var left = Math.round(WARN_MS / 1000);
    countdown.textContent = String(left);
    warning.hidden = false;
    document.getElementById('kiosk-stay').focus();
    tick = setInterval(function () {
      left = Math.max(0, left - 1);
      countdown.textContent = String(left);
    }, 1000);
  }
  function reset() {
    clearTimeout(idle);
    clearTimeout(warn);
    clearInterval(tick);
    if (warning) warning.hidden = true;
    warn = setTimeout(showWarning, IDLE_MS - WARN_MS);
    idle = setTimeout(leave, IDLE_MS);
  }
  ['pointerdown', 'keydown', 'touchstart', 'input'].forEach(function (ev) {
    document.addEventListener(ev, reset, { passive: true });
  });
  var end = document.getElementById('kiosk-end');
  if (end) end.addEventListener('click', leave);
  reset();
  function beat() {
    fetch('/kiosk/heartbeat', { method: 'POST', headers: { 'X-Kiosk': '1' }, credentials: 'same-origin' });
  }
  beat();
  setInterval(beat, 60 * 1000);
})();
