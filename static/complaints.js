// Progressive enhancement for the complaint form: tapping the sketch map fills the coordinate
// fields (inverse of the page's projection), and "use my location" fills them from the device.
// Without JavaScript the coordinates (or just an address) can be typed in.
(function () {
  var map = document.getElementById('pick-map');
  var lat = document.getElementById('lat');
  var lon = document.getElementById('lon');
  if (!map || !lat || !lon) return;
  var b = map.getAttribute('data-bounds').split(',').map(Number); // latMin, latMax, lonMin, lonMax, k
  var scale = Math.min(640 / ((b[3] - b[2]) * b[4]), 480 / (b[1] - b[0]));
  var pin = document.getElementById('pick-pin');
  function place() {
    var la = parseFloat(lat.value), lo = parseFloat(lon.value);
    if (isNaN(la) || isNaN(lo)) return;
    pin.setAttribute('cx', ((lo - b[2]) * b[4] * scale).toFixed(1));
    pin.setAttribute('cy', ((b[1] - la) * scale).toFixed(1));
  }
  map.addEventListener('click', function (e) {
    var pt = map.createSVGPoint();
    pt.x = e.clientX; pt.y = e.clientY;
    var p = pt.matrixTransform(map.getScreenCTM().inverse());
    lat.value = (b[1] - p.y / scale).toFixed(5);
    lon.value = (b[2] + p.x / (b[4] * scale)).toFixed(5);
    place();
  });
  lat.addEventListener('change', place);
  lon.addEventListener('change', place);
  place();
  var button = document.getElementById('use-location');
  if (button && navigator.geolocation) {
    button.hidden = false;
    button.addEventListener('click', function () {
      navigator.geolocation.getCurrentPosition(function (p) {
        lat.value = p.coords.latitude.toFixed(5);
        lon.value = p.coords.longitude.toFixed(5);
        place();
      });
    });
  }
})();
