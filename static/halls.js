// Progressive enhancement for the hall map: "use my location" fills the position fields from
// the browser's geolocation and submits. Without JavaScript the fields can be typed in.
(function () {
  var button = document.getElementById('use-location');
  if (!button || !navigator.geolocation) return;
  button.hidden = false;
  button.addEventListener('click', function () {
    navigator.geolocation.getCurrentPosition(function (p) {
      document.getElementById('lat').value = p.coords.latitude.toFixed(5);
      document.getElementById('lon').value = p.coords.longitude.toFixed(5);
      button.form.submit();
    });
  });
})();
