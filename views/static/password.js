// Shows a password field's "Show password" button, which switches the
// field between hidden and shown text. Without this script the button
// stays hidden and the field is an ordinary password field.
document.querySelectorAll("button[data-reveal]").forEach(function (b) {
  var input = document.getElementById(b.dataset.reveal);
  if (!input) return;
  b.hidden = false;
  b.addEventListener("click", function () {
    var show = input.type === "password";
    input.type = show ? "text" : "password";
    b.textContent = show ? b.dataset.hide : b.dataset.show;
    b.setAttribute("aria-pressed", show ? "true" : "false");
    input.focus();
  });
});
// The form sends a password field: put it back before submitting, so
// the browser's password manager sees it as one.
document.querySelectorAll("form").forEach(function (f) {
  f.addEventListener("submit", function () {
    f.querySelectorAll("button[data-reveal]").forEach(function (b) {
      var input = document.getElementById(b.dataset.reveal);
      if (input) input.type = "password";
    });
  });
});
