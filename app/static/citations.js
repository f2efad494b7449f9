// Opens the citation panel when a [n] marker is clicked. Chromium already opens a closed
// <details> on fragment navigation; this also marks the panel and works in other browsers.
if (!window.__govqaCitations) {
  window.__govqaCitations = true;
  document.addEventListener('click', function (event) {
    var link = event.target && event.target.closest ? event.target.closest('a[href^="#cite-"]') : null;
    if (!link) return;
    var id = link.getAttribute('href').slice(1);
    var target = document.getElementById(id);
    if (!target) return;
    event.preventDefault();
    var panel = target.closest('details');
    if (panel) panel.open = true;
    document.querySelectorAll('.govqa-active').forEach(function (e) { e.classList.remove('govqa-active'); });
    target.classList.add('govqa-active');
    target.scrollIntoView({block: 'center'});
    history.replaceState(null, '', '#' + id);
  });
}
