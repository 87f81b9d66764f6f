// Kiosk mode: after 90 seconds without a touch or key the session ends and everything the
// last person left is cleared (/kiosk/leave logs out and returns to the kiosk's home). A
// heartbeat every minute tells the registry the device is alive.
(function () {
  var IDLE_MS = 90 * 1000;
  var timer;
  function reset() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      try { sessionStorage.clear(); localStorage.clear(); } catch (e) {}
      window.location.href = '/kiosk/leave';
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
