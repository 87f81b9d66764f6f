// Kiosk mode: after 90 seconds without a touch or key the session ends and everything the
// last person left is cleared (a POST to /kiosk/leave logs out; the page then returns to the
// kiosk's home). The POST carries the X-Kiosk header, which another site cannot send. A
// heartbeat every minute tells the registry the device is alive.
(function () {
  var IDLE_MS = 90 * 1000;
  var timer;
  function reset() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      try { sessionStorage.clear(); localStorage.clear(); } catch (e) {}
      fetch('/kiosk/leave', { method: 'POST', headers: { 'X-Kiosk': '1' }, credentials: 'same-origin' })
        .then(function (r) { window.location.href = r.url || '/'; })
        .catch(function () { window.location.href = '/'; });
    }, IDLE_MS);
  }
  ['pointerdown', 'keydown', 'touchstart', 'input'].forEach(function (ev) {
    document.addEventListener(ev, reset, { passive: true });
  });
  reset();
  function beat() {
    fetch('/kiosk/heartbeat', { method: 'POST', headers: { 'X-Kiosk': '1' }, credentials: 'same-origin' });
  }
  beat();
  setInterval(beat, 60 * 1000);
})();
