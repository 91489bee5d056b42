'use strict';
// Starts one of the tools for the npm packages' bin entries. On a platform with a bundle
// (@derphole/linux-x64, @derphole/linux-arm64, installed by npm through the optionalDependencies
// whose os/cpu match), its launcher and Java runtime; elsewhere the universal jar in this package
// with a Java 17+ found on the machine (JAVA_HOME, then PATH). No dependencies: plain Node.

const childProcess = require('child_process');
const fs = require('fs');
const path = require('path');

const MAIN = {
  derphole: 'dev.derphole.cli.DerpholeCommand',
  derptun: 'dev.derphole.cli.DerptunCommand',
  derper: 'dev.derphole.cli.DerperCommand',
};

function bundleDir() {
  const name = `@derphole/${process.platform}-${process.arch}`;
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch (e) {
    return null;
  }
}

// The major version of a java executable, or 0 when it does not run.
function javaMajor(java) {
  const r = childProcess.spawnSync(java, ['-version'], { encoding: 'utf8', windowsHide: true });
  if (r.error || r.status !== 0) return 0;
  const m = /version "(\d+)(?:\.(\d+))?/.exec(`${r.stderr}${r.stdout}`);
  if (!m) return 0;
  const major = Number(m[1]);
  return major === 1 ? Number(m[2]) : major;
}

function findJava() {
  const exe = process.platform === 'win32' ? 'java.exe' : 'java';
  const candidates = [];
  if (process.env.JAVA_HOME) candidates.push(path.join(process.env.JAVA_HOME, 'bin', exe));
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir) candidates.push(path.join(dir, exe));
  }
  for (const c of candidates) {
    if (fs.existsSync(c) && javaMajor(c) >= 17) return c;
  }
  return null;
}

function command(tool, args) {
  const bundle = bundleDir();
  if (bundle) return { file: path.join(bundle, 'bin', tool), args, env: process.env };
  const java = findJava();
  if (!java) {
    process.stderr.write(`${tool}: no bundle for ${process.platform}-${process.arch} and no Java 17 or newer;` +
      ' install a Java 17+ runtime (e.g. Eclipse Temurin) and put it on PATH or in JAVA_HOME\n');
    process.exit(1);
  }
  const root = path.join(__dirname, '..');
  const jar = path.join(root, 'lib', 'derphole.jar');
  if (process.platform !== 'win32') {
    // The repository's own launcher (its JVM options), over this jar and the java found.
    const env = Object.assign({}, process.env, {
      DERPHOLE_JAR: jar,
      PATH: `${path.dirname(java)}${path.delimiter}${process.env.PATH || ''}`,
    });
    return { file: path.join(root, 'lib', 'launch.sh'), args: [MAIN[tool], tool, ...args], env };
  }
  // Windows has no shell for launch.sh: its memory bounds, and nothing else.
  const heap = tool === 'derper' ? ['-Xms64m', '-Xmx512m'] : ['-Xms32m', '-Xmx256m'];
  return {
    file: java,
    args: ['-XX:+UseSerialGC', ...heap, '-XX:MaxDirectMemorySize=256m', '-Xlog:disable',
      '-Xlog:all=warning:stderr', '-cp', jar, MAIN[tool], ...args],
    env: process.env,
  };
}

function run(tool) {
  const c = command(tool, process.argv.slice(2));
  const child = childProcess.spawn(c.file, c.args, { stdio: 'inherit', env: c.env });
  // Ctrl-C reaches the tool itself (same process group); a signal sent to this process alone
  // is passed on. Either way the tool decides, and this process ends as it does.
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(s, () => {
      if (s !== 'SIGINT' && child.exitCode === null) child.kill(s);
    });
  }
  child.on('error', (e) => {
    process.stderr.write(`${tool}: cannot start ${c.file}: ${e.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code === null ? 1 : code);
  });
}

module.exports = { run };
