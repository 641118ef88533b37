// Boots GraphiQL against the endpoint this page was served from (/graphql); no network beyond it.
(function () {
  "use strict";
  var EXAMPLE_QUERY = [
    "# BESS-OS GraphQL. Run with Ctrl-Enter (or the play button); Ctrl-Space completes.",
    "# With a token configured (BESS_API_TOKEN), add it in the Headers tab below:",
    '#   {"Authorization": "Bearer <token>"}',
    "{",
    "  systems {",
    "    id",
    "    kind",
    "  }",
    "}",
    "",
  ].join("\n");

  // The query travels in ?q= so a GraphiQL link can be shared.
  var params = new URLSearchParams(window.location.search);

  function updateURL(key, value) {
    if (value) params.set(key, value); else params.delete(key);
    var search = params.toString();
    history.replaceState(null, "", search ? "?" + search : window.location.pathname);
  }

  var fetchURL = window.location.href.split("?")[0].split("#")[0];
  var wsURL = new URL(fetchURL);
  wsURL.protocol = wsURL.protocol === "https:" ? "wss:" : "ws:";

  var fetcher = GraphiQL.createFetcher({ url: fetchURL, subscriptionUrl: wsURL.toString() });

  function App() {
    var q = React.useState(params.get("q") || EXAMPLE_QUERY);
    var v = React.useState(params.get("variables") || undefined);
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      query: q[0],
      variables: v[0],
      onEditQuery: function (s) { q[1](s); updateURL("q", s); },
      onEditVariables: function (s) { v[1](s); updateURL("variables", s); },
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(App));
})();
