// Composes openapi/schema.graphql (our subgraph) with a second subgraph that extends Group, using
// The Guild's federation composition (independent of the Rust library that produced the SDL).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { composeServices } from '@theguild/federation-composition';

const ours = readFileSync(new URL('../../openapi/schema.graphql', import.meta.url), 'utf8');

const other = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key", "@shareable"])

type Group @key(fields: "id") {
  id: ID!
  upcomingEventCount: Int!
}

type Query {
  eventsHealth: String
}
`;

function compose(extra) {
  return composeServices([
    { name: 'scaffold', typeDefs: parse(ours), url: 'http://127.0.0.1:1/graphql' },
    ...extra,
  ]);
}

test('our subgraph composes on its own', () => {
  const result = compose([]);
  assert.deepEqual(result.errors ?? [], []);
  assert.ok(result.supergraphSdl.includes('join__type(graph: SCAFFOLD, key: "id")'));
  assert.ok(result.supergraphSdl.includes('join__type(graph: SCAFFOLD, key: "slug")'));
});

test('another subgraph can extend Group by id', () => {
  const result = compose([{ name: 'events', typeDefs: parse(other), url: 'http://127.0.0.1:2/graphql' }]);
  assert.deepEqual((result.errors ?? []).map((e) => e.message), []);
  const sdl = result.supergraphSdl;
  assert.match(sdl, /upcomingEventCount: Int! @join__field\(graph: EVENTS\)/);
  assert.match(sdl, /memberCount: \w+! @join__field\(graph: SCAFFOLD\)/);
});

test('a conflicting definition is reported, so the check can fail', () => {
  const clash = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])
type Group @key(fields: "id") { id: ID! name: Int! }
type Query { x: String }
`;
  const result = compose([{ name: 'clash', typeDefs: parse(clash), url: 'http://127.0.0.1:3/graphql' }]);
  assert.ok((result.errors ?? []).length > 0);
});
