// Submits the form of a page that carries the browser on with a POST.
document.addEventListener('DOMContentLoaded', () => {
  const f = document.getElementById('autopost')
  if (f) f.submit()
})
