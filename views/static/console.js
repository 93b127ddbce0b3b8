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
// A colour picker next to a colour's text field keeps the two in step.
document.addEventListener('input', (ev) => {
  const picker = ev.target.closest('input[data-colour-picker]')
  if (picker) {
    const text = document.getElementById(picker.dataset.colourPicker)
    if (text) text.value = picker.value
    return
  }
  const text = ev.target.closest('input[data-colour-text]')
  if (text && /^#[0-9a-fA-F]{6}$/.test(text.value)) {
    const p = document.querySelector('input[data-colour-picker="' + text.id + '"]')
    if (p) p.value = text.value.toLowerCase()
  }
})
// Editing an email address unchecks the "verified" box that goes with it:
// a new address is not verified until someone says so.
document.addEventListener('input', (ev) => {
  if (!ev.target.id) return
  const box = document.querySelector('input[data-unverify="' + ev.target.id + '"]')
  if (box) box.checked = false
})
// A form that came back with errors shows its first wrong field.
document.addEventListener('DOMContentLoaded', () => {
  const bad = document.querySelector('[aria-invalid="true"]')
  if (bad) bad.focus()
})
// A template editor previews as the admin types: its Preview button's
// form is posted to the sandboxed preview frame, a moment after the last
// keystroke. Without this file the button does the same on a click.
let previewTimer
document.addEventListener('input', (ev) => {
  const form = ev.target.closest('form[data-live-preview]')
  if (!form) return
  const button = form.querySelector('button[data-preview]')
  if (!button) return
  clearTimeout(previewTimer)
  previewTimer = setTimeout(() => form.requestSubmit(button), 600)
})
