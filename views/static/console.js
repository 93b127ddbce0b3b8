// Gatehouse console: small progressive enhancements. Everything works
// without this file; it is served from 'self' (no inline script, CSP).
document.addEventListener('click', (ev) => {
  const copy = ev.target.closest('button[data-copy]')
  if (copy) {
    navigator.clipboard.writeText(copy.dataset.copy).then(() => {
      const label = copy.textContent
      copy.textContent = 'Copied'
      setTimeout(() => { copy.textContent = label }, 1500)
    })
  }
})
// A form whose submit button carries data-confirm asks first; the server
// still requires its own confirmation field for destructive actions.
document.addEventListener('submit', (ev) => {
  const button = ev.submitter
  const message = (button && button.dataset.confirm) || ev.target.dataset.confirm
  if (message && !window.confirm(message)) ev.preventDefault()
})
