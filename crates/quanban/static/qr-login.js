// The kiosk's QR sign-in page: counts the code's life down and asks every two seconds whether the
// phone confirmed; when it has, signs in (the same form as the button, for kiosks without this
// script). The request is this kiosk's own, named by its cookie.
document.addEventListener("DOMContentLoaded", function () {
  var panel = document.getElementById("qr-login");
  if (!panel) { return; }
  var left = parseInt(panel.getAttribute("data-seconds"), 10) || 120;
  var counter = document.getElementById("qr-seconds");
  var state = document.getElementById("qr-state");
  var form = document.getElementById("qr-sign-in");
  var done = false;
  var tick = setInterval(function () {
    left -= 1;
    if (counter) { counter.textContent = Math.max(left, 0); }
    if (left <= 0) { clearInterval(tick); }
  }, 1000);
  var poll = setInterval(function () {
    if (done) { return; }
    fetch("/kiosk/qr-login/status", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { status: "expired" }; })
      .then(function (body) {
        if (body.status === "approved") {
          done = true; clearInterval(poll); form.submit();
        } else if (body.status === "expired" || body.status === "cancelled" || body.status === "used") {
          done = true; clearInterval(poll);
          state.textContent = document.documentElement.lang === "en"
            ? "This code no longer works. Touch “A new code”."
            : "二维码已失效，请点“换一个二维码”。";
        }
      })
      .catch(function () {});
  }, 2000);
});
