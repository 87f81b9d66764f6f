// Buttons marked data-print print the page (the print style sheet keeps only what is marked
// .printable, e.g. a queue slip). A script rather than an inline handler: the pages' content
// security policy allows no inline scripts.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
});
