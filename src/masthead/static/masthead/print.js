// The print view's Print button (an external script: the Content-Security-Policy allows no
// inline handler). Without JavaScript the button stays hidden and the hint beside it applies.
document.querySelectorAll(".print-button").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () {
    window.print();
  });
});
