// Starts Swagger UI on /schema. A file rather than an inline script, so the content policy can
// refuse every inline script. The schema's address comes from the page's data attribute.
window.addEventListener("DOMContentLoaded", function () {
  var container = document.getElementById("swagger-container");
  window.ui = SwaggerUIBundle({
    url: container.dataset.schemaUrl,
    domNode: container,
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "BaseLayout",
  });
});
