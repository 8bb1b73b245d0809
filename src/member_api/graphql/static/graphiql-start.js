// Starts GraphiQL on the endpoint that served the page (/graphql or /admin/graphql).
// React, ReactDOM, GraphiQL and the explorer plugin are loaded before this file.
(function () {
  "use strict";

  var endpoint = window.location.origin + window.location.pathname;

  // The two endpoints share an origin: keep each one's tabs, queries and headers apart.
  var prefix = window.location.pathname + "|";
  function ownKeys() {
    var keys = [];
    for (var i = 0; i < window.localStorage.length; i += 1) {
      var key = window.localStorage.key(i);
      if (key !== null && key.indexOf(prefix) === 0) keys.push(key);
    }
    return keys;
  }
  var storage = {
    getItem: function (key) {
      return window.localStorage.getItem(prefix + key);
    },
    setItem: function (key, value) {
      window.localStorage.setItem(prefix + key, value);
    },
    removeItem: function (key) {
      window.localStorage.removeItem(prefix + key);
    },
    clear: function () {
      ownKeys().forEach(function (key) {
        window.localStorage.removeItem(key);
      });
    },
    get length() {
      return ownKeys().length;
    },
  };

  // ?q=...&variables=... opens with that operation (a link to share one).
  var given = new URLSearchParams(window.location.search);
  var staff = window.location.pathname.replace(/\/+$/, "").endsWith("/admin/graphql");
  var welcome = staff
    ? "# Staff API. Sign in with the staffLogin mutation, then add the header\n" +
      '# {"Authorization": "Bearer <accessToken>"} below.\n\n{\n  __typename\n}\n'
    : "# Members' API. Sign in with the login mutation, then add the header\n" +
      '# {"Authorization": "Bearer <accessToken>"} below.\n\n{\n  __typename\n}\n';

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: GraphiQL.createFetcher({ url: endpoint }),
      storage: storage,
      defaultQuery: welcome,
      query: given.get("q") || undefined,
      variables: given.get("variables") || undefined,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      inputValueDeprecation: true,
    }),
  );
})();
