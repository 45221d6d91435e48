/**
 * Deployment artefacts stay consistent with the code: docker-compose.yml, the Prometheus and
 * Grafana configuration, the Dockerfile and the examples in config/examples/deploy/.
 * Docker has no engine here, so these are structural checks (plus `docker compose config` and
 * `promtool check config` when those tools work on the machine).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig, type Config } from '../../src/config/index.js';

/** Repository root: this file runs from dist/test/deploy/. */
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const deployDir = join(repoRoot, 'config', 'examples', 'deploy');
const metricsSource = readFileSync(join(repoRoot, 'src', 'observability', 'metrics.ts'), 'utf8');

type Dict = Record<string, unknown>;

function isDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function dict(value: unknown, what: string): Dict {
  assert.ok(isDict(value), `${what}: expected a mapping`);
  return value;
}

function list(value: unknown, what: string): unknown[] {
  assert.ok(Array.isArray(value), `${what}: expected a list`);
  return value;
}

function str(value: unknown, what: string): string {
  assert.equal(typeof value, 'string', `${what}: expected a string`);
  return value as string;
}

function strings(value: unknown, what: string): string[] {
  return list(value, what).map((item, i) => str(item, `${what}[${i}]`));
}

function readText(...parts: string[]): string {
  return readFileSync(join(repoRoot, ...parts), 'utf8');
}

function readYaml(...parts: string[]): unknown {
  return parse(readText(...parts));
}

/** Loads berth config text the way `berth serve --config FILE` does, without the environment. */
function loadBerthConfig(text: string): Config {
  const dir = mkdtempSync(join(tmpdir(), 'berth-deploy-test-'));
  try {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, text);
    const result = loadConfig({ file, env: {}, flags: {}, cwd: dir });
    if (!result.ok) assert.fail(`config does not load:\n${result.errors.join('\n')}`);
    return result.config;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether a metric is declared in src/observability/metrics.ts. */
function isDefinedMetric(name: string): boolean {
  return metricsSource.includes(`name: '${name}'`) || metricsSource.includes(`name: "${name}"`);
}

/** Runs a command; undefined when the binary is missing. */
function run(cmd: string, args: readonly string[], cwd = repoRoot): { status: number | null; output: string } | undefined {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

// ---------------------------------------------------------------------------------------
// docker-compose.yml

interface Mount {
  readonly source: string;
  readonly target: string;
  readonly bind: boolean;
}

/** Short (`src:dst[:mode]`) and long (`{type, source, target}`) volume syntax. */
function mountsOf(service: Dict, what: string): Mount[] {
  if (service['volumes'] === undefined) return [];
  return list(service['volumes'], `${what}.volumes`).map((v, i) => {
    if (typeof v === 'string') {
      const [source = '', target = ''] = v.split(':');
      return { source, target, bind: source.startsWith('.') || source.startsWith('/') };
    }
    const m = dict(v, `${what}.volumes[${i}]`);
    const source = str(m['source'], `${what}.volumes[${i}].source`);
    return { source, target: str(m['target'], `${what}.volumes[${i}].target`), bind: m['type'] === 'bind' };
  });
}

function composeServices(): { compose: Dict; services: Dict } {
  const compose = dict(readYaml('docker-compose.yml'), 'docker-compose.yml');
  return { compose, services: dict(compose['services'], 'services') };
}

function envOf(service: Dict, what: string): Dict {
  const env = service['environment'];
  if (env === undefined) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(strings(env, `${what}.environment`).map((e) => [e.split('=')[0] ?? '', e.slice(e.indexOf('=') + 1)]));
  }
  return dict(env, `${what}.environment`);
}

describe('docker-compose.yml', () => {
  it('has berth, prometheus and grafana, with declared volumes and existing bind sources', () => {
    const { compose, services } = composeServices();
    for (const name of ['berth', 'prometheus', 'grafana']) assert.ok(isDict(services[name]), `service ${name} is missing`);

    const berth = dict(services['berth'], 'services.berth');
    const build = berth['build'];
    const context = typeof build === 'string' ? build : str(dict(build, 'services.berth.build')['context'], 'build.context');
    assert.equal(context, '.', 'berth builds from the repository root');
    assert.ok(existsSync(join(repoRoot, 'Dockerfile')), 'the Dockerfile the build uses exists');
    const ports = list(berth['ports'], 'services.berth.ports').map(String);
    assert.ok(ports.some((p) => /(^|:)5000:5000$/.test(p) || p === '5000'), `berth publishes port 5000, got ${ports.join(', ')}`);

    assert.match(str(dict(services['prometheus'], 'prometheus')['image'], 'prometheus.image'), /^prom\/prometheus(:|$)/);
    assert.match(str(dict(services['grafana'], 'grafana')['image'], 'grafana.image'), /^grafana\/grafana(:|$)/);

    const declared = Object.keys(dict(compose['volumes'], 'top-level volumes'));
    for (const [name, svc] of Object.entries(services)) {
      for (const m of mountsOf(dict(svc, name), `services.${name}`)) {
        if (m.bind) {
          assert.ok(existsSync(resolve(repoRoot, m.source)), `services.${name}: bind source ${m.source} exists in the repository`);
        } else {
          assert.ok(declared.includes(m.source), `services.${name}: volume ${m.source} is declared under top-level volumes`);
        }
      }
    }
    const berthMounts = mountsOf(berth, 'services.berth');
    assert.ok(berthMounts.some((m) => !m.bind && m.target === '/var/lib/berth'), 'the cache is a named volume at /var/lib/berth');
    const grafanaMounts = mountsOf(dict(services['grafana'], 'grafana'), 'services.grafana');
    assert.ok(grafanaMounts.some((m) => !m.bind && m.target === '/var/lib/grafana'), 'grafana data is a named volume');
  });

  it('mounts config/examples/compose.yaml as berth config, and it loads and listens on 0.0.0.0:5000', () => {
    const { services } = composeServices();
    const berth = dict(services['berth'], 'services.berth');
    const mount = mountsOf(berth, 'services.berth').find((m) => m.bind && resolve(repoRoot, m.source) === join(repoRoot, 'config', 'examples', 'compose.yaml'));
    assert.ok(mount, 'config/examples/compose.yaml is mounted into the berth service');
    const env = envOf(berth, 'services.berth');
    const command = berth['command'] === undefined ? [] : Array.isArray(berth['command']) ? strings(berth['command'], 'command') : [str(berth['command'], 'command')];
    assert.ok(env['BERTH_CONFIG'] === mount.target || command.join(' ').includes(mount.target), 'berth is told to read the mounted config (BERTH_CONFIG or --config)');

    const config = loadBerthConfig(readText('config', 'examples', 'compose.yaml'));
    assert.deepEqual(config.listen, { host: '0.0.0.0', port: 5000 });
    assert.equal(config.storage.path, '/var/lib/berth');
  });

  it('passes `docker compose config` when a compose implementation is available', (t) => {
    // The YAML checks above always run; this adds the real parser where it exists.
    const docker = run('docker', ['compose', 'version']);
    if (docker === undefined || docker.status !== 0) {
      const legacy = run('docker-compose', ['version']);
      if (legacy === undefined || legacy.status !== 0) {
        t.diagnostic('no docker compose plugin or docker-compose binary here: structural YAML checks only');
        return;
      }
      const r = run('docker-compose', ['-f', 'docker-compose.yml', 'config', '--quiet']);
      assert.equal(r?.status, 0, `docker-compose config failed:\n${r?.output ?? ''}`);
      return;
    }
    const r = run('docker', ['compose', '-f', 'docker-compose.yml', 'config', '--quiet']);
    assert.equal(r?.status, 0, `docker compose config failed:\n${r?.output ?? ''}`);
  });
});

// ---------------------------------------------------------------------------------------
// Prometheus

describe('config/monitoring/prometheus.yml', () => {
  const path = join('config', 'monitoring', 'prometheus.yml');

  it('is the file docker-compose.yml mounts into prometheus', () => {
    const { services } = composeServices();
    const mounts = mountsOf(dict(services['prometheus'], 'prometheus'), 'services.prometheus');
    assert.ok(
      mounts.some((m) => m.bind && resolve(repoRoot, m.source) === join(repoRoot, path) && m.target === '/etc/prometheus/prometheus.yml'),
      'prometheus.yml is mounted at /etc/prometheus/prometheus.yml',
    );
  });

  it('scrapes berth:5000/metrics', (t) => {
    const config = dict(readYaml(path), 'prometheus.yml');
    const jobs = list(config['scrape_configs'], 'scrape_configs').map((j, i) => dict(j, `scrape_configs[${i}]`));
    const berth = jobs.find((j) =>
      list(j['static_configs'] ?? [], 'static_configs').some((s) => strings(dict(s, 'static_config')['targets'], 'targets').includes('berth:5000')),
    );
    assert.ok(berth, 'a scrape job targets berth:5000 (the compose service name and port)');
    assert.equal(berth['metrics_path'] ?? '/metrics', '/metrics');

    const promtool = run('promtool', ['check', 'config', path]);
    if (promtool === undefined) {
      t.diagnostic('promtool is not installed: YAML checks only');
      return;
    }
    assert.equal(promtool.status, 0, `promtool check config failed:\n${promtool.output}`);
  });
});

// ---------------------------------------------------------------------------------------
// Grafana

interface Panel {
  readonly title: string;
  readonly exprs: readonly string[];
  readonly datasourceUids: readonly string[];
}

function panelsOf(value: unknown): Panel[] {
  const out: Panel[] = [];
  for (const [i, p] of list(value, 'panels').entries()) {
    const panel = dict(p, `panels[${i}]`);
    if (panel['panels'] !== undefined) out.push(...panelsOf(panel['panels']));
    if (panel['type'] === 'row') continue;
    const targets = panel['targets'] === undefined ? [] : list(panel['targets'], `panel ${String(panel['title'])} targets`).map((x) => dict(x, 'target'));
    const uids = [panel['datasource'], ...targets.map((x) => x['datasource'])]
      .filter(isDict)
      .map((d) => d['uid'])
      .filter((u): u is string => typeof u === 'string');
    out.push({
      title: str(panel['title'], `panels[${i}].title`),
      exprs: targets.map((x) => x['expr']).filter((e): e is string => typeof e === 'string'),
      datasourceUids: uids,
    });
  }
  return out;
}

/** berth_* metric names an expression uses, histogram series suffixes removed. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/berth_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ''));
}

describe('Grafana dashboard and provisioning', () => {
  const dashboardPath = join('config', 'monitoring', 'grafana', 'dashboards', 'berth.json');
  const dashboard = dict(JSON.parse(readText(dashboardPath)) as unknown, 'berth.json');
  const panels = panelsOf(dashboard['panels']);

  it('every expression uses only metrics defined in src/observability/metrics.ts', () => {
    const exprs = panels.flatMap((p) => p.exprs);
    assert.ok(exprs.length > 0, 'the dashboard has queries');
    const used = new Set(exprs.flatMap(metricNames));
    assert.ok(used.size > 0, 'the queries use berth metrics');
    const unknown = [...used].filter((m) => !isDefinedMetric(m));
    assert.deepEqual(unknown, [], `metrics used by the dashboard but not defined: ${unknown.join(', ')}`);
  });

  it('has the panels operators need, each on its metric', () => {
    const wanted: ReadonlyArray<readonly [RegExp, string]> = [
      [/hit ratio/i, 'berth_cache_requests_total'],
      [/bytes (saved|served)/i, 'berth_served_bytes_total'],
      [/upstream latency/i, 'berth_upstream_request_duration_seconds'],
      [/rate.?limit remaining/i, 'berth_upstream_ratelimit_remaining'],
      [/cache size/i, 'berth_cache_size_bytes'],
      [/fills in progress/i, 'berth_fills_in_progress'],
      [/request rate/i, 'berth_http_requests_total'],
    ];
    for (const [title, metric] of wanted) {
      const panel = panels.find((p) => title.test(p.title));
      assert.ok(panel, `a panel titled like ${title} exists; titles: ${panels.map((p) => p.title).join(' | ')}`);
      assert.ok(panel.exprs.some((e) => metricNames(e).includes(metric)), `panel "${panel.title}" queries ${metric}`);
    }
    const latency = panels.find((p) => /upstream latency/i.test(p.title));
    assert.ok(latency?.exprs.some((e) => e.includes('histogram_quantile') && e.includes('berth_upstream_request_duration_seconds_bucket')));
    const requests = panels.find((p) => /request rate/i.test(p.title));
    assert.ok(requests?.exprs.some((e) => /by \(route, ?status\)|by \(status, ?route\)/.test(e)), 'request rate is split by route and status');
  });

  it('panels use the provisioned datasource, and the provider loads the mounted dashboards', () => {
    const datasources = dict(readYaml('config', 'monitoring', 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'datasources');
    const ds = list(datasources['datasources'], 'datasources').map((d) => dict(d, 'datasource'));
    const prometheus = ds.find((d) => d['type'] === 'prometheus');
    assert.ok(prometheus, 'a prometheus datasource is provisioned');
    assert.equal(prometheus['url'], 'http://prometheus:9090');
    const uid = str(prometheus['uid'], 'datasource uid');
    for (const p of panels) {
      assert.ok(p.datasourceUids.length > 0 && p.datasourceUids.every((u) => u === uid), `panel "${p.title}" uses datasource uid ${uid}`);
    }

    const providers = dict(readYaml('config', 'monitoring', 'grafana', 'provisioning', 'dashboards', 'berth.yml'), 'dashboards provider');
    const paths = list(providers['providers'], 'providers').map((p) => str(dict(dict(p, 'provider')['options'], 'options')['path'], 'options.path'));
    const { services } = composeServices();
    const mounts = mountsOf(dict(services['grafana'], 'grafana'), 'services.grafana');
    const dashboardsMount = mounts.find((m) => m.bind && resolve(repoRoot, m.source) === join(repoRoot, 'config', 'monitoring', 'grafana', 'dashboards'));
    assert.ok(dashboardsMount, 'the dashboards directory is mounted into grafana');
    assert.ok(paths.includes(dashboardsMount.target), `the provider reads ${dashboardsMount.target}`);
    for (const sub of ['datasources', 'dashboards']) {
      assert.ok(
        mounts.some((m) => m.bind && resolve(repoRoot, m.source) === join(repoRoot, 'config', 'monitoring', 'grafana', 'provisioning', sub)),
        `provisioning/${sub} is mounted`,
      );
    }
  });
});

// ---------------------------------------------------------------------------------------
// Dockerfile

describe('Dockerfile', () => {
  const text = readText('Dockerfile');
  const pkg = dict(JSON.parse(readText('package.json')) as unknown, 'package.json');

  it('builds in two stages and runs the compiled CLI as a non-root user', () => {
    const froms = [...text.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    assert.ok(froms.length >= 2 && froms.every((f) => f?.startsWith('node:20-bookworm-slim')), `two node:20-bookworm-slim stages, got ${froms.join(', ')}`);
    assert.match(text, /npm ci --omit=dev --ignore-scripts/);
    assert.match(text, /COPY --from=builder/);
    const user = [...text.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]).at(-1);
    assert.ok(user !== undefined && !/^(root|0)(:|$)/.test(user), `the last USER is not root, got ${user ?? 'none'}`);
    const bin = str(dict(pkg['bin'], 'package.json bin')['berth'], 'bin.berth');
    assert.match(text, new RegExp(`^ENTRYPOINT \\["node", ?"${bin.replace(/[.]/g, '\\.')}"\\]`, 'm'));
    assert.match(text, /^CMD \["serve"\]/m);
  });

  it('listens where it exposes, keeps the cache on a volume and health-checks /healthz', () => {
    assert.match(text, /^VOLUME \/var\/lib\/berth$/m);
    assert.match(text, /^EXPOSE 5000$/m);
    assert.match(text, /BERTH_LISTEN=0\.0\.0\.0:5000/);
    assert.match(text, /BERTH_DATA_DIR=\/var\/lib\/berth/);
    assert.match(text, /^HEALTHCHECK[\s\S]*127\.0\.0\.1:5000\/healthz/m);
  });

  it('.dockerignore keeps local build output and caches out of the context', () => {
    const ignored = readText('.dockerignore').split('\n').map((l) => l.trim());
    for (const entry of ['node_modules', 'dist', '.git']) assert.ok(ignored.includes(entry), `.dockerignore lists ${entry}`);
    for (const needed of ['src', 'config', 'package.json', 'package-lock.json', 'tsconfig.json']) {
      assert.ok(!ignored.includes(needed), `.dockerignore must not exclude ${needed}`);
    }
  });
});

// ---------------------------------------------------------------------------------------
// config/examples/deploy

describe('config/examples/deploy', () => {
  const file = (name: string): string => readFileSync(join(deployDir, name), 'utf8');

  it('holds exactly the documented examples, none empty', () => {
    const expected = ['berth.service', 'containerd-default-hosts.toml', 'containerd-hosts.toml', 'docker-daemon.json', 'kubernetes.yaml', 'podman-registries.conf'];
    assert.deepEqual(readdirSync(deployDir).sort(), expected);
    for (const name of expected) assert.ok(statSync(join(deployDir, name)).size > 0, `${name} is not empty`);
  });

  it('containerd hosts.toml files name a pull/resolve mirror host', () => {
    for (const name of ['containerd-hosts.toml', 'containerd-default-hosts.toml']) {
      const text = file(name);
      assert.match(text, /^\[host\."http:\/\/[^"]+:5000"\]$/m, `${name} has a [host."http://…:5000"] table`);
      assert.match(text, /capabilities = \["pull", "resolve"\]/, `${name} gives the mirror pull and resolve`);
    }
    assert.match(file('containerd-hosts.toml'), /^server = "https:\/\/registry-1\.docker\.io"$/m);
    assert.doesNotMatch(file('containerd-default-hosts.toml'), /^server\s*=/m, '_default must not pin one registry as server');
  });

  it('docker-daemon.json: a root-URL mirror, marked insecure when it is plain HTTP', () => {
    const daemon = dict(JSON.parse(file('docker-daemon.json')) as unknown, 'daemon.json');
    const mirrors = strings(daemon['registry-mirrors'], 'registry-mirrors');
    assert.ok(mirrors.length > 0);
    const insecure = daemon['insecure-registries'] === undefined ? [] : strings(daemon['insecure-registries'], 'insecure-registries');
    for (const m of mirrors) {
      const url = new URL(m);
      assert.equal(url.pathname, '/', `the Docker daemon needs a root URL without a path, got ${m}`);
      if (url.protocol === 'http:') assert.ok(insecure.includes(url.host), `${url.host} is listed in insecure-registries`);
    }
  });

  it('podman-registries.conf: docker.io through the root, other registries through a namespace path', () => {
    const text = file('podman-registries.conf');
    assert.match(text, /^\[\[registry\]\]$/m);
    assert.match(text, /^\[\[registry\.mirror\]\]$/m);
    assert.match(text, /^prefix = "docker\.io"$/m);
    assert.match(text, /^location = "[^"/]+:5000"$/m, 'a mirror at the root');
    assert.match(text, /^location = "[^"/]+:5000\/ghcr\.io"$/m, 'a mirror with a namespace path');
  });

  it('berth.service: hardened unit running `berth serve`', () => {
    const text = file('berth.service');
    for (const section of ['[Unit]', '[Service]', '[Install]']) assert.ok(text.includes(`\n${section}\n`), `has ${section}`);
    assert.match(text, /^ExecStart=\S*node \S*dist\/src\/main\.js serve\b/m);
    assert.match(text, /^(User=berth|DynamicUser=yes)$/m);
    for (const line of ['ProtectSystem=strict', 'ReadWritePaths=/var/lib/berth', 'Restart=on-failure', 'NoNewPrivileges=yes']) {
      assert.match(text, new RegExp(`^${line}$`, 'm'), `has ${line}`);
    }
    assert.doesNotMatch(text, /^MemoryDenyWriteExecute=yes/m, 'V8 needs W+X memory');
  });

  it('kubernetes.yaml: Deployment, Service, PVC and a ConfigMap whose berth config loads', () => {
    const docs = parseAllDocuments(file('kubernetes.yaml'));
    const objects = docs.map((d, i) => {
      assert.deepEqual(d.errors, [], `document ${i} parses`);
      return dict(d.toJS() as unknown, `document ${i}`);
    });
    const byKind = (kind: string): Dict => {
      const found = objects.filter((o) => o['kind'] === kind);
      assert.equal(found.length, 1, `exactly one ${kind}`);
      return found[0] as Dict;
    };
    const deployment = byKind('Deployment');
    const service = byKind('Service');
    const pvc = byKind('PersistentVolumeClaim');
    const configMap = byKind('ConfigMap');
    const nameOf = (o: Dict): string => str(dict(o['metadata'], 'metadata')['name'], 'metadata.name');

    const configKey = 'config.yaml';
    const config = loadBerthConfig(str(dict(configMap['data'], 'ConfigMap.data')[configKey], `ConfigMap data ${configKey}`));

    const spec = dict(deployment['spec'], 'Deployment.spec');
    const template = dict(spec['template'], 'template');
    const podLabels = dict(dict(template['metadata'], 'template.metadata')['labels'], 'pod labels');
    const pod = dict(template['spec'], 'pod spec');
    assert.equal(dict(pod['securityContext'], 'pod securityContext')['runAsNonRoot'], true, 'runAsNonRoot');
    const containers = list(pod['containers'], 'containers').map((c) => dict(c, 'container'));
    const berth = containers[0];
    assert.ok(berth !== undefined, 'a berth container');

    const containerPort = dict(list(berth['ports'], 'ports')[0], 'port')['containerPort'];
    assert.equal(containerPort, config.listen.port, 'the container port is the configured listen port');
    assert.equal(config.listen.host, '0.0.0.0', 'berth listens on every interface inside the pod');

    const probePath = (key: string): unknown => dict(dict(berth[key], key)['httpGet'], `${key}.httpGet`)['path'];
    assert.equal(probePath('readinessProbe'), '/readyz');
    assert.equal(probePath('livenessProbe'), '/healthz');

    const volumes = list(pod['volumes'], 'volumes').map((v) => dict(v, 'volume'));
    const mounts = list(berth['volumeMounts'], 'volumeMounts').map((m) => dict(m, 'volumeMount'));
    const mountOf = (volumeName: string): string => str(mounts.find((m) => m['name'] === volumeName)?.['mountPath'], `mountPath of ${volumeName}`);
    const cache = volumes.find((v) => isDict(v['persistentVolumeClaim']));
    assert.ok(cache, 'a volume from the PVC');
    assert.equal(dict(cache['persistentVolumeClaim'], 'pvc ref')['claimName'], nameOf(pvc));
    const env = list(berth['env'] ?? [], 'env').map((e) => dict(e, 'env var'));
    const dataDir = env.find((e) => e['name'] === 'BERTH_DATA_DIR')?.['value'] ?? config.storage.path;
    assert.equal(dataDir, mountOf(str(cache['name'], 'cache volume name')), 'the cache directory is the PVC mount');

    const cfgVolume = volumes.find((v) => isDict(v['configMap']));
    assert.ok(cfgVolume, 'a volume from the ConfigMap');
    assert.equal(dict(cfgVolume['configMap'], 'configMap ref')['name'], nameOf(configMap));
    const args = strings(berth['args'], 'args');
    const configFlag = args.indexOf('--config');
    assert.ok(args[0] === 'serve' && configFlag !== -1, 'runs `serve --config FILE`');
    assert.equal(args[configFlag + 1], `${mountOf(str(cfgVolume['name'], 'config volume name'))}/${configKey}`);

    const svcSpec = dict(service['spec'], 'Service.spec');
    for (const [k, v] of Object.entries(dict(svcSpec['selector'], 'selector'))) assert.equal(podLabels[k], v, `the Service selects the pod by ${k}`);
    const ports = list(svcSpec['ports'], 'Service ports').map((p) => dict(p, 'service port'));
    assert.ok(ports.some((p) => p['targetPort'] === 'http' || p['targetPort'] === containerPort), 'the Service targets the berth port');
  });
});
