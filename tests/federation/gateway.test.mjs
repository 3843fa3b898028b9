// Queries through a real federation gateway (GraphQL Hive gateway runtime, MIT) composed of the
// running `scaffold` binary and a small second subgraph. The gateway resolves Group fields from
// our subgraph with `_entities`, and extends Group with a field from the other.
//
// Needs SCAFFOLD_TEST_BIN (the built `scaffold` binary); scripts/test sets it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { buildSchema, graphql, parse } from 'graphql';
import { composeServices } from '@theguild/federation-composition';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';

const bin = process.env.SCAFFOLD_TEST_BIN;
let server;
let scaffoldUrl;
let token;
let events;
let eventsUrl;
let featuredId;

// The second subgraph, as composition sees it.
const eventsSdl = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])
type Group @key(fields: "id") { id: ID! upcomingEventCount: Int! }
type Query { featuredGroup: Group }
`;

// The same subgraph as it runs: plain graphql-js with the federation entry points written out.
const eventsSchema = buildSchema(`
  scalar _Any
  union _Entity = Group
  type _Service { sdl: String }
  type Group { id: ID! upcomingEventCount: Int! }
  type Query { featuredGroup: Group, _entities(representations: [_Any!]!): [_Entity]!, _service: _Service! }
`);
eventsSchema.getType('_Entity').resolveType = () => 'Group';
const eventsRoot = {
  featuredGroup: () => ({ id: featuredId, upcomingEventCount: 3 }),
  _entities: ({ representations }) => representations.map((r) => ({ id: r.id, upcomingEventCount: 7 })),
  _service: () => ({ sdl: eventsSdl }),
};

async function readJson(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return JSON.parse(body);
}

async function start() {
  assert.ok(bin, 'set SCAFFOLD_TEST_BIN to the scaffold binary');
  const dir = mkdtempSync(join(tmpdir(), 'scaffold-gateway-'));
  server = spawn(bin, ['serve', '--listen', '127.0.0.1:0'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] });
  const lines = createInterface({ input: server.stdout });
  for await (const line of lines) {
    const addr = line.match(/listening on (http:\/\/[\d.:]+)/);
    if (addr) scaffoldUrl = addr[1];
    const t = line.trim().match(/^(scf_\S+)$/);
    if (t) {
      token = t[1];
      break;
    }
  }
  events = createServer(async (req, res) => {
    const { query, variables } = await readJson(req);
    const result = await graphql({ schema: eventsSchema, source: query, rootValue: eventsRoot, variableValues: variables });
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(result));
  });
  await new Promise((r) => events.listen(0, '127.0.0.1', r));
  eventsUrl = `http://127.0.0.1:${events.address().port}/graphql`;
}

function stop() {
  server?.kill('SIGTERM');
  events?.close();
}

test('the gateway joins our Group entity with another subgraph', async () => {
  await start();
  try {
    await joins();
  } finally {
    stop();
  }
});

async function joins() {
  const create = await fetch(`${scaffoldUrl}/api/v1/groups`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ slug: 'gateway-group', name: 'Gateway Group', summary: 'Federated' }),
  });
  assert.equal(create.status, 201);
  featuredId = (await create.json()).id;

  const ours = readFileSync(new URL('../../openapi/schema.graphql', import.meta.url), 'utf8');
  const composed = composeServices([
    { name: 'scaffold', typeDefs: parse(ours), url: `${scaffoldUrl}/graphql` },
    { name: 'events', typeDefs: parse(eventsSdl), url: eventsUrl },
  ]);
  assert.deepEqual((composed.errors ?? []).map((e) => e.message), []);
  const gateway = createGatewayRuntime({ supergraph: composed.supergraphSdl, logging: false, maskedErrors: false });
  const ask = async (query) => {
    const res = await gateway.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    return res.json();
  };

  // Events subgraph → our _entities (by id) for name, slug and memberCount.
  const featured = await ask('{ featuredGroup { id name slug memberCount upcomingEventCount } }');
  assert.deepEqual(featured, {
    data: { featuredGroup: { id: featuredId, name: 'Gateway Group', slug: 'gateway-group', memberCount: 1, upcomingEventCount: 3 } },
  });

  // Our subgraph → the events subgraph's _entities for upcomingEventCount.
  const ours2 = await ask('{ group(slug: "gateway-group") { name upcomingEventCount } groups { edges { node { slug upcomingEventCount } } } }');
  assert.deepEqual(ours2.data.group, { name: 'Gateway Group', upcomingEventCount: 7 });
  assert.deepEqual(ours2.data.groups.edges, [{ node: { slug: 'gateway-group', upcomingEventCount: 7 } }]);
  await gateway.dispose?.();
}
