// The /api/docs page: Swagger UI (shipped by the swagger-ui-bundle wheel, served from
// /api/docs/assets) reading the public API's OpenAPI document. A file, not inline script: the
// Content-Security-Policy forbids inline script.
(function () {
  "use strict";
  window.addEventListener("DOMContentLoaded", function () {
    var target = document.getElementById("swagger-ui");
    if (!target || typeof window.SwaggerUIBundle !== "function") { return; }
    window.SwaggerUIBundle({
      url: target.getAttribute("data-openapi"),
      dom_id: "#swagger-ui",
      deepLinking: true,
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      tryItOutEnabled: false,
      validatorUrl: null
    });
  });
})();
