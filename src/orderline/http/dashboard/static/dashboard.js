// orderline dashboard: nothing here is needed to use it; it only adds conveniences.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // An erase asks once more, beyond typing the order's number.
  for (const form of document.querySelectorAll("form.danger")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm("Erase this order for good? This cannot be undone.")) event.preventDefault();
    });
  }
});
