// Docket console: live refresh of the page's #live region (every 5 s, only while the tab is visible and the
// "Live" switch is on; the choice is remembered), and a confirmation before destructive buttons.
// An external file because the Content-Security-Policy allows no inline script.
(function () {
  'use strict'
  var INTERVAL_MS = 5000
  var KEY = 'docket.live'
  var toggle = document.getElementById('live-toggle')
  var region = document.getElementById('live')
  if (toggle === null) return
  toggle.closest('[hidden]') && toggle.closest('[hidden]').removeAttribute('hidden')
  toggle.checked = window.localStorage.getItem(KEY) !== 'off'
  toggle.addEventListener('change', function () {
    window.localStorage.setItem(KEY, toggle.checked ? 'on' : 'off')
    if (toggle.checked) refresh()
  })
  document.addEventListener('visibilitychange', function () { if (!document.hidden) refresh() })

  var busy = false
  function refresh() {
    if (region === null || busy || document.hidden || !toggle.checked || typeof htmx === 'undefined') return
    // Never replace a region the operator is typing in or has ticked boxes in.
    if (region.contains(document.activeElement) && document.activeElement !== document.body) return
    if (region.querySelector('input[type=checkbox]:checked') !== null) return
    busy = true
    htmx.ajax('GET', location.pathname + location.search, { target: '#live', select: '#live', swap: 'outerHTML' })
      .then(function () { region = document.getElementById('live') }, function () {})
      .then(function () { busy = false })
  }
  if (region !== null) window.setInterval(refresh, INTERVAL_MS)

  document.addEventListener('submit', function (e) {
    var button = e.submitter
    var message = button && button.getAttribute('data-confirm')
    if (message && !window.confirm(message)) e.preventDefault()
  })
})()
