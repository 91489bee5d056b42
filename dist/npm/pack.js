#!/usr/bin/env node
'use strict';
// Builds the npm packages with `npm pack`, into dist/target/npm/:
//   @derphole/linux-x64, @derphole/linux-arm64  a bundle each (dist/bundle.sh's tarballs), with
//                                               os/cpu so that npm installs only the machine's own
//   derphole                                    bin derphole and derper; the universal jar for the
//                                               platforms without a bundle (a Java 17+ is needed there)
//   derptun                                     bin derptun, through derphole
// and packs.json: each package's manifest and tarball (dist/npm/registry.js serves them).
// Usage: node dist/npm/pack.js   (after mvn package and dist/bundle.sh)
const childProcess = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..', '..');
const target = path.join(root, 'dist', 'target');
const out = path.join(target, 'npm');
const jar = path.join(root, 'cli', 'target', 'derphole.jar');
const PLATFORMS = { 'linux-x64': { os: 'linux', cpu: 'x64' }, 'linux-arm64': { os: 'linux', cpu: 'arm64' } };

function sh(cmd, args, opts) {
  const r = childProcess.spawnSync(cmd, args, Object.assign({ encoding: 'utf8' }, opts));
  if (r.status !== 0) {
    process.stderr.write(`dist/npm/pack.js: ${cmd} ${args.join(' ')} failed:\n${r.stderr || r.error}\n`);
    process.exit(1);
  }
  return r.stdout;
}

function version() {
  const m = /derphole-(.+)-linux-x64\.tar\.gz$/.exec(
    fs.readdirSync(target).find((f) => /^derphole-.+-linux-x64\.tar\.gz$/.test(f)) || '');
  if (!m) {
    process.stderr.write('dist/npm/pack.js: no dist/target/derphole-*-linux-x64.tar.gz; run dist/bundle.sh first\n');
    process.exit(1);
  }
  return m[1];
}

const common = {
  engines: { node: '>=16' },
};

function pack(dir, manifest) {
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const [info] = JSON.parse(sh('npm', ['pack', '--json', '--pack-destination', out], { cwd: dir }));
  return { manifest, file: info.filename, integrity: info.integrity, shasum: info.shasum, size: info.size };
}

const v = version();
fs.rmSync(out, { recursive: true, force: true });
const stage = path.join(out, 'stage');
fs.mkdirSync(stage, { recursive: true });
const packs = [];

for (const [platform, sel] of Object.entries(PLATFORMS)) {
  const dir = path.join(stage, platform);
  fs.mkdirSync(dir);
  sh('tar', ['-xzf', path.join(target, `derphole-${v}-${platform}.tar.gz`), '-C', dir, '--strip-components=1']);
  fs.writeFileSync(path.join(dir, 'README.md'),
    `# @derphole/${platform}\n\nThe ${platform} bundle of derphole (a Java runtime, the jar and the launchers);` +
    ' install `derphole` or `derptun`, which use it.\n');
  packs.push(pack(dir, Object.assign({
    name: `@derphole/${platform}`, version: v,
    description: `derphole's ${platform} bundle: a Java runtime with the tools, no JDK needed`,
    os: [sel.os], cpu: [sel.cpu], preferUnplugged: true,
  }, common)));
}

const optional = Object.fromEntries(Object.keys(PLATFORMS).map((p) => [`@derphole/${p}`, v]));
for (const name of ['derphole', 'derptun']) {
  const dir = path.join(stage, name);
  fs.cpSync(path.join(__dirname, name), dir, { recursive: true });
  const manifest = Object.assign({ name, version: v }, common);
  if (name === 'derphole') {
    fs.copyFileSync(jar, path.join(dir, 'lib', 'derphole.jar'));
    fs.copyFileSync(path.join(root, 'bin', 'launch.sh'), path.join(dir, 'lib', 'launch.sh'));
    fs.chmodSync(path.join(dir, 'lib', 'launch.sh'), 0o755);
    Object.assign(manifest, {
      description: 'Move bytes, files and TCP services between two machines behind NAT (derphole for the JVM)',
      bin: { derphole: 'bin/derphole.js', derper: 'bin/derper.js' },
      optionalDependencies: optional,
    });
  } else {
    Object.assign(manifest, {
      description: 'Durable TCP tunnels between two machines behind NAT (derphole for the JVM)',
      bin: { derptun: 'bin/derptun.js' },
      dependencies: { derphole: v },
    });
  }
  packs.push(pack(dir, manifest));
}
fs.rmSync(stage, { recursive: true, force: true });
fs.writeFileSync(path.join(out, 'packs.json'), `${JSON.stringify(packs, null, 2)}\n`);
for (const p of packs) process.stderr.write(`dist: ${path.join(out, p.file)} (${(p.size / 1048576).toFixed(1)} MB)\n`);
