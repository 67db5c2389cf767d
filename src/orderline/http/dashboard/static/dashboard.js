// orderline dashboard: nothing here is needed to use it; it only adds conveniences.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // An erase asks once more, beyond typing the order's number.
  for (const form of document.querySelectorAll("form.danger")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm("Erase this order for good? This cannot be undone.")) event.preventDefault();
    });
  }

  // The live badge: order events since this page opened, from the admin event stream (/admin/events).
  const badge = document.querySelector("[data-live-badge]");
  if (badge && window.EventSource) {
    const count = badge.querySelector("[data-live-count]");
    const stream = new EventSource("/admin/events");
    // Set once the server holds our place in the stream: every event after this moment reaches the badge.
    stream.addEventListener("open", () => { badge.dataset.connected = "true"; });
    let seen = 0;
    const onEvent = () => {
      seen += 1;
      count.textContent = String(seen);
      badge.hidden = false;
    };
    for (const type of ["order.created", "order.statusChanged", "order.cancelled", "order.erased", "order.updated"]) {
      stream.addEventListener(type, onEvent);
    }
  }
});
