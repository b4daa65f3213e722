// Renders GET /docs: a separate file, not an inline script, so that the page's CSP allows
// scripts from 'self' only (ADR 0021).
"use strict";

// Resolved against the page: /docs → /openapi.json; behind API Gateway /prod/docs →
// /prod/openapi.json (the stage is the first path segment).
const base = new URL(".", document.baseURI);

fetch(new URL("openapi.json", base))
  .then((response) => {
    if (!response.ok) throw new Error(`GET openapi.json answered ${response.status}`);
    return response.json();
  })
  .then((spec) => {
    // The document names no server, and OpenAPI then means "/" of the document's origin, which
    // misses the stage prefix: "Try it out" calls the API where this page was served from.
    spec.servers = [{ url: base.href.replace(/\/$/, "") }];
    window.ui = SwaggerUIBundle({
      spec,
      dom_id: "#swagger-ui",
      deepLinking: true,
      // The default sends the document to validator.swagger.io: nothing leaves the server.
      validatorUrl: null,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
    });
  })
  .catch((error) => {
    const message = document.createElement("p");
    message.textContent = `The API description could not be loaded: ${error.message}`;
    document.getElementById("swagger-ui").replaceChildren(message);
  });
