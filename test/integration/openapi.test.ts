import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { openApiDocument } from '../../src/http/openapi.ts';
import { createTestApp, type TestApp } from '../support/app.ts';

const methods = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];

/** "GET /v1/messages/:id" for every operation the document describes under /v1. */
function documentedOperations(): string[] {
  return Object.entries(openApiDocument().paths)
    .filter(([path]) => path.startsWith('/v1/'))
    .flatMap(([path, item]) =>
      Object.keys(item)
        .filter((key) => methods.includes(key))
        .map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    )
    .sort();
}

/** Every registered route as "METHOD /path", read from Fastify's route tree (HEAD twins left out). */
function registeredRoutes(app: FastifyInstance): string[] {
  const routes: string[] = [];
  const segments: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:│   |    )*)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    segments.length = match[1]!.length / 4;
    segments.push(match[2]!);
    const path = segments.join('');
    for (const method of match[3]?.split(', ') ?? []) if (method !== 'HEAD') routes.push(`${method} ${path}`);
  }
  return routes.sort();
}

describe('the OpenAPI document and the served API', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('describes exactly the routes registered under /v1', () => {
    const registered = registeredRoutes(t.app);
    const documented = documentedOperations();
    // Both readers work: each finds routes it must find.
    expect(registered).toEqual(expect.arrayContaining(['GET /healthz', 'GET /readyz', 'GET /openapi.json', 'DELETE /v1/messages/:id']));
    expect(documented).toEqual(expect.arrayContaining(['POST /v1/messages', 'GET /v1/messages/:id/events']));
    expect(registered.filter((r) => r.split(' ')[1]!.startsWith('/v1/'))).toEqual(documented);
  });

  it('serves the document at /openapi.json', async () => {
    const res = await t.app.inject({ url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const served = res.json();
    expect(served.openapi).toBe('3.1.0');
    expect(served).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
  });

  it('serves Swagger UI at /docs, pointed at the document', async () => {
    const res = await t.app.inject({ url: '/docs' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('Swagger UI');
    const json = await t.app.inject({ url: '/docs/json' });
    expect(json.statusCode).toBe(200);
    expect(json.json().paths).toEqual(openApiDocument().paths);
  });

  it('answers /healthz and /readyz without credentials', async () => {
    const health = await t.app.inject({ url: '/healthz' });
    expect([health.statusCode, health.json()]).toEqual([200, { status: 'ok' }]);
    const ready = await t.app.inject({ url: '/readyz' });
    expect([ready.statusCode, ready.json()]).toEqual([200, { status: 'ready', database: 'ok' }]);
  });
});
