// Starts GraphiQL on the page served at GET /graphql. Served from the binary with the page, so
// that the page's Content-Security-Policy can forbid inline and external scripts.
(function () {
  var container = document.getElementById('graphiql');
  container.style.height = '100vh';
  var root = ReactDOM.createRoot(container);
  var fetcher = GraphiQL.createFetcher({ url: '/graphql' });
  root.render(React.createElement(GraphiQL, { fetcher: fetcher, defaultEditorToolsVisibility: true }));
})();
