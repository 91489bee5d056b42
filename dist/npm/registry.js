#!/usr/bin/env node
'use strict';
// A package registry on loopback serving only the packages dist/npm/pack.js built (packs.json
// beside them), so that `npm install -g derphole` can be tried as a user runs it, optional
// platform packages included, with no other registry. For the install test (dist/install-test.sh).
// Usage: node dist/npm/registry.js DIR   prints its URL on stdout, serves until killed.
const fs = require('fs');
const http = require('http');
const path = require('path');

const dir = path.resolve(process.argv[2] || path.join(__dirname, '..', 'target', 'npm'));
const packs = JSON.parse(fs.readFileSync(path.join(dir, 'packs.json'), 'utf8'));

const server = http.createServer((req, res) => {
  const url = decodeURIComponent(req.url.split('?')[0]).replace(/^\/+/, '');
  const tarball = packs.find((p) => url === `-/${p.file}`);
  if (tarball) {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    fs.createReadStream(path.join(dir, tarball.file)).pipe(res);
    return;
  }
  const versions = packs.filter((p) => p.manifest.name === url);
  if (versions.length === 0) {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":"not found"}');
    return;
  }
  const base = `http://${req.headers.host}`;
  const doc = { name: url, 'dist-tags': { latest: versions[versions.length - 1].manifest.version }, versions: {} };
  for (const p of versions) {
    doc.versions[p.manifest.version] = Object.assign({}, p.manifest, {
      dist: { tarball: `${base}/-/${p.file}`, integrity: p.integrity, shasum: p.shasum },
    });
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(doc));
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${server.address().port}/\n`);
});
