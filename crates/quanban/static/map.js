// City maps (templates/map_districts.html): pan and zoom by drag, wheel, buttons or keys; a
// tap marks a place (the page's hidden lat/lon fields, for forms that want one); the place
// field suggests names from the gazetteer as one types; "use my location" asks the device.
// Without JavaScript the map is a still picture and the place field is sent as typed.
(function () {
  'use strict';
  function numbers(s, sep) { return s.split(sep).map(Number); }

  document.querySelectorAll('.city-map').forEach(function (box) {
    var svg = box.querySelector('svg.map');
    if (!svg) return;
    var home = numbers(svg.getAttribute('data-home'), ' ');
    var view = numbers(svg.getAttribute('viewBox'), ' ');
    var frame = numbers(box.getAttribute('data-frame'), ',');  // lon_min, lat_max, k, scale, pad
    var form = box.getAttribute('data-pick') ? document.getElementById(box.getAttribute('data-pick')) : null;
    var tools = box.querySelector('.map-tools');
    if (tools) tools.hidden = false;

    function show(v) {
      var minW = home[2] / 12;
      var w = Math.min(Math.max(v[2], minW), home[2]);
      var h = w * home[3] / home[2];
      var x = Math.min(Math.max(v[0] + (v[2] - w) / 2, home[0] - w / 2), home[0] + home[2] - w / 2);
      var y = Math.min(Math.max(v[1] + (v[3] - h) / 2, home[1] - h / 2), home[1] + home[3] - h / 2);
      view = [x, y, w, h];
      svg.setAttribute('viewBox', view.map(function (n) { return n.toFixed(1); }).join(' '));
      scaleText();
    }
    // Text and dots keep their size on screen as the map zooms and the window changes.
    function scaleText() {
      var width = svg.getBoundingClientRect().width;
      if (!(width > 0)) return;
      svg.style.setProperty('--px', (view[2] / width).toFixed(4));
      var bar = box.querySelector('.map-scale .bar');
      if (bar) bar.style.width = (Number(bar.getAttribute('data-units')) * width / view[2]).toFixed(0) + 'px';
      declutter();
    }
    // The server chose names that fit a full-width map; on a narrow screen or after zooming,
    // a name that would cover one already shown (districts first, then the city hall, the
    // district halls, the streets) is hidden; it stays in the dot's tooltip and in the list.
    function declutter() {
      var rank = function (t) {
        return t.classList.contains('district-label') ? -1 : Number(t.getAttribute('data-rank') || 5);
      };
      var labels = Array.prototype.slice.call(svg.querySelectorAll('.district-label, .map-label'));
      labels.sort(function (a, b) { return rank(a) - rank(b); });
      var shown = [];
      labels.forEach(function (t) {
        t.style.visibility = '';
        var r = t.getBoundingClientRect();
        if (!r.width) return;
        var covers = shown.some(function (s) {
          return r.left < s.right && s.left < r.right && r.top < s.bottom && s.top < r.bottom;
        });
        if (covers) t.style.visibility = 'hidden'; else shown.push(r);
      });
    }
    window.addEventListener('resize', scaleText);
    function zoom(factor, cx, cy) {
      if (cx === undefined) { cx = view[0] + view[2] / 2; cy = view[1] + view[3] / 2; }
      var w = view[2] / factor, h = view[3] / factor;
      show([cx - (cx - view[0]) / factor, cy - (cy - view[1]) / factor, w, h]);
    }
    function toMap(e) {
      var pt = svg.createSVGPoint();
      pt.x = e.clientX; pt.y = e.clientY;
      return pt.matrixTransform(svg.getScreenCTM().inverse());
    }
    show(view);

    box.querySelectorAll('.map-zoom').forEach(function (b) {
      b.addEventListener('click', function () { zoom(Number(b.getAttribute('data-zoom'))); });
    });
    var homeButton = box.querySelector('.map-home');
    if (homeButton) homeButton.addEventListener('click', function () { show(home.slice()); });
    svg.addEventListener('wheel', function (e) {
      e.preventDefault();
      var p = toMap(e);
      zoom(e.deltaY < 0 ? 1.25 : 0.8, p.x, p.y);
    }, { passive: false });
    svg.addEventListener('keydown', function (e) {
      var step = view[2] / 8;
      var moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
      if (moves[e.key]) {
        show([view[0] + moves[e.key][0], view[1] + moves[e.key][1], view[2], view[3]]);
      } else if (e.key === '+' || e.key === '=') {
        zoom(1.6);
      } else if (e.key === '-') {
        zoom(0.625);
      } else {
        return;
      }
      e.preventDefault();
    });

    // Drag to pan; a press that barely moves is a tap.
    var down = null;
    svg.addEventListener('pointerdown', function (e) {
      down = { x: e.clientX, y: e.clientY, view: view.slice(), moved: false, ctm: svg.getScreenCTM() };
    });
    svg.addEventListener('pointermove', function (e) {
      if (!down) return;
      var dx = e.clientX - down.x, dy = e.clientY - down.y;
      if (!down.moved && Math.abs(dx) + Math.abs(dy) < 6) return;
      if (!down.moved) { down.moved = true; svg.setPointerCapture(e.pointerId); }
      show([down.view[0] - dx / down.ctm.a, down.view[1] - dy / down.ctm.d, down.view[2], down.view[3]]);
    });
    svg.addEventListener('pointerup', function (e) {
      var was = down;
      down = null;
      if (!was || was.moved || !form) return;
      if (e.target.closest && e.target.closest('a')) return;  // a hall's dot opens the hall
      var p = toMap(e);
      mark(frame[1] - (p.y - frame[4]) / frame[3], frame[0] + (p.x - frame[4]) / (frame[2] * frame[3]), true);
    });

    function setPin(lat, lon) {
      var pin = svg.querySelector('.pin');
      if (!pin) return;
      pin.setAttribute('cx', (frame[4] + (lon - frame[0]) * frame[2] * frame[3]).toFixed(1));
      pin.setAttribute('cy', (frame[4] + (frame[1] - lat) * frame[3]).toFixed(1));
    }
    // A place is marked: the hidden fields take it, the pin moves there, the status says so.
    function mark(lat, lon, tapped) {
      if (!form) return;
      form.querySelector('[name=lat]').value = lat.toFixed(5);
      form.querySelector('[name=lon]').value = lon.toFixed(5);
      setPin(lat, lon);
      var status = document.getElementById('place-hint');
      if (status && tapped && status.getAttribute('data-marked')) status.textContent = status.getAttribute('data-marked');
      if (tapped && box.hasAttribute('data-pick-submit')) form.submit();
    }
    box.markPlace = mark;
  });

  // The place field: suggestions from the gazetteer; choosing one marks it on the map.
  var place = document.getElementById('place');
  var list = document.getElementById('place-suggestions');
  if (place && list) {
    var found = [];
    var timer = null;
    place.addEventListener('input', function () {
      clearTimeout(timer);
      var q = place.value.trim();
      var chosen = found.filter(function (p) { return p.name === q; })[0];
      var map = document.querySelector('.city-map');
      if (chosen && map && map.markPlace) { map.markPlace(chosen.lat, chosen.lon, false); return; }
      // A typed name is searched by the server when the form is sent.
      var form = place.form;
      if (form && form.querySelector('[name=lat]')) { form.querySelector('[name=lat]').value = ''; form.querySelector('[name=lon]').value = ''; }
      if (!q) return;
      timer = setTimeout(function () {
        fetch('/api/v1/places?q=' + encodeURIComponent(q)).then(function (r) { return r.ok ? r.json() : []; }).then(function (places) {
          found = places;
          list.textContent = '';
          places.forEach(function (p) {
            var o = document.createElement('option');
            o.value = p.name;
            o.label = p.district;
            list.appendChild(o);
          });
        });
      }, 200);
    });
  }

  // "Use my location": the device's position, where the page has the fields for it.
  var button = document.getElementById('use-location');
  if (button && navigator.geolocation) {
    button.hidden = false;
    button.addEventListener('click', function () {
      navigator.geolocation.getCurrentPosition(function (p) {
        var map = document.querySelector('.city-map');
        if (map && map.markPlace) map.markPlace(p.coords.latitude, p.coords.longitude, true);
      });
    });
  }
})();
