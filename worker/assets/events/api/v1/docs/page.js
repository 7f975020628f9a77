// Starts Swagger UI on the service's OpenAPI document (/events/api/v1/openapi.json, found
// relative to this script so the page also works under a path prefix). A separate file, not an
// inline script, so the page's Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";

  var script = document.currentScript;
  var documentUrl = new URL("../openapi.json", script ? script.src : window.location.href).href;

  // Marks every operation carrying `x-altinn-private: true` with a "Private API" badge next to
  // its path, so private operations are recognisable in the collapsed list too (their tags'
  // description says "Private API" as well, and the expanded operation lists the extension).
  // True when the operation has `x-altinn-private: true`. `op` is Swagger UI's
  // {path, method, operation} record (the resolved operation itself once it is expanded); the
  // document's own entry is the fallback.
  function isPrivate(system, operationProps) {
    if (!operationProps) {
      return false;
    }
    var op = operationProps.get("op");
    if (op && (op.getIn(["operation", "x-altinn-private"]) === true || op.get("x-altinn-private") === true)) {
      return true;
    }
    var path = operationProps.get("path");
    var method = operationProps.get("method");
    return (
      typeof path === "string" &&
      typeof method === "string" &&
      system.specSelectors.specJson().getIn(["paths", path, method, "x-altinn-private"]) === true
    );
  }

  function altinnPrivateBadge() {
    return {
      wrapComponents: {
        OperationSummaryPath: function (Original, system) {
          var React = system.React;
          return function (props) {
            var original = React.createElement(Original, props);
            if (!isPrivate(system, props.operationProps)) {
              return original;
            }
            return React.createElement(
              React.Fragment,
              null,
              original,
              React.createElement(
                "span",
                {
                  className: "altinn-private-badge",
                  title: "x-altinn-private: true (Altinn marks this endpoint as a Private API)",
                },
                "Private API"
              )
            );
          };
        },
      },
    };
  }

  window.ui = window.SwaggerUIBundle({
    url: documentUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    presets: [window.SwaggerUIBundle.presets.apis],
    plugins: [altinnPrivateBadge],
    deepLinking: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    displayOperationId: true,
    displayRequestDuration: true,
    filter: true,
    showExtensions: true,
    showCommonExtensions: true,
    tryItOutEnabled: false,
    // Never send the document to validator.swagger.io (the page must work offline).
    validatorUrl: null,
    // Do not let ?url=… or ?configUrl=… make this page load some other document.
    queryConfigEnabled: false,
  });
})();
