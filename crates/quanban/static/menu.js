// The header's links fold behind a 菜单 / Menu button on phones. Without JavaScript the links
// stay in view (the button is hidden), so nothing depends on this file.
(function () {
  var button = document.getElementById('menu-button');
  var nav = document.getElementById('main-nav');
  if (!button || !nav) return;
  document.documentElement.classList.add('menu-ready');
  button.hidden = false;
  button.addEventListener('click', function () {
    var open = button.getAttribute('aria-expanded') !== 'true';
    button.setAttribute('aria-expanded', String(open));
    nav.classList.toggle('open', open);
  });
})();
