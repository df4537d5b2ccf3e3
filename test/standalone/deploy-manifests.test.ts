/**
 * deploy/: every Kubernetes manifest (base, overlays rendered by a small
 * strategic merge, the HPA alternative) validates against the Kubernetes
 * schemas (`kubernetes-models`) and KEDA's (`@kubernetes-models/keda`), and
 * refers only to things that exist: env vars the config loader reads, the
 * port its config serves on, routes the gateway answers, metrics it exports,
 * Secrets, ConfigMaps, claims and workloads defined beside them. The compose
 * file is held to the same references.
 */
import { readdirSync, readFileSync, existsSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service } from "kubernetes-models/v1";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1";
import { loadConfig, type SwitchyardConfig } from "../../src/config/index.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const K8S = path.join(ROOT, "deploy/kubernetes");

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; [k: string]: unknown };
type Obj = Record<string, unknown>;

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  "v1/Namespace": Namespace,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "v1/PersistentVolumeClaim": PersistentVolumeClaim,
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "keda.sh/v1alpha1/ScaledObject": ScaledObject,
};

function validate(m: Manifest): void {
  const Model = MODELS[`${m.apiVersion}/${m.kind}`];
  if (!Model) throw new Error(`${m.kind} ${m.metadata?.name}: no schema for ${m.apiVersion}/${m.kind}`);
  new Model(m as never).validate();
}

function readDocs(file: string): Obj[] {
  return parseAllDocuments(readFileSync(file, "utf8"))
    .map((d) => d.toJS() as Obj | null)
    .filter((d): d is Obj => d !== null);
}

/** Strategic merge, as far as these manifests need it: maps merge, lists of named items merge by name, other lists replace. */
function merge(base: unknown, patch: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(patch)) {
    const named = (xs: unknown[]) => xs.every((x) => typeof x === "object" && x !== null && "name" in x);
    if (!named(base) || !named(patch)) return patch;
    const out = base.map((b) => {
      const p = patch.find((x) => (x as Obj).name === (b as Obj).name);
      return p ? merge(b, p) : b;
    });
    for (const p of patch) if (!base.some((b) => (b as Obj).name === (p as Obj).name)) out.push(p);
    return out;
  }
  if (typeof base === "object" && base !== null && typeof patch === "object" && patch !== null && !Array.isArray(base)) {
    const out: Obj = { ...(base as Obj) };
    for (const [k, v] of Object.entries(patch as Obj)) out[k] = k in out ? merge(out[k], v) : v;
    return out;
  }
  return patch;
}

/** Renders a kustomization directory: its resources (recursively) with its patches applied. */
function render(dir: string): Manifest[] {
  const k = parseYaml(readFileSync(path.join(dir, "kustomization.yaml"), "utf8")) as {
    kind: string;
    resources?: string[];
    patches?: Array<{ path: string }>;
    namespace?: string;
  };
  expect(k.kind).toBe("Kustomization");
  let out: Manifest[] = [];
  for (const r of k.resources ?? []) {
    const p = path.join(dir, r);
    expect(existsSync(p), `${dir}: resource ${r} exists`).toBe(true);
    out.push(...(statSync(p).isDirectory() ? render(p) : (readDocs(p) as Manifest[])));
  }
  for (const { path: patchPath } of k.patches ?? []) {
    for (const patch of readDocs(path.join(dir, patchPath)) as Manifest[]) {
      const i = out.findIndex((m) => m.kind === patch.kind && m.metadata.name === patch.metadata.name);
      expect(i, `${dir}: patch ${patchPath} targets ${patch.kind}/${patch.metadata.name}`).toBeGreaterThanOrEqual(0);
      out[i] = merge(out[i], patch) as Manifest;
    }
  }
  if (k.namespace) out = out.map((m) => (m.kind === "Namespace" ? m : { ...m, metadata: { ...m.metadata, namespace: k.namespace } }));
  return out;
}

/** Environment variables the config loader reads (`env.NAME`), plus the Dockerfile's runtime ones. */
const loaderSource = readFileSync(path.join(ROOT, "src/config/load.ts"), "utf8");
const KNOWN_ENV = new Set([...loaderSource.matchAll(/env\.([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]!));
/** GET routes the gateway serves. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : [],
  );
}
const serverSource = sourceFiles(path.join(ROOT, "src")).map((f) => readFileSync(f, "utf8")).join("\n");
const METRICS = new Set([...readFileSync(path.join(ROOT, "src/telemetry/metrics.ts"), "utf8").matchAll(/name: "(switchyard_[a-z_]+)"/g)].map((m) => m[1]!));

function configOf(text: string): SwitchyardConfig {
  return loadConfig({ env: { SWITCHYARD_REDIS_URL: "redis://redis:6379" }, raw: parseYaml(text) });
}

interface Container {
  name: string;
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
  resources?: { limits?: Record<string, string> };
  ports?: Array<{ name?: string; containerPort: number }>;
  startupProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  lifecycle?: { preStop?: unknown };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}
interface PodSpec {
  containers: Container[];
  volumes?: Array<{ name: string; configMap?: { name: string }; persistentVolumeClaim?: { claimName: string } }>;
  terminationGracePeriodSeconds?: number;
}
const podOf = (m: Manifest) => ((m.spec as Obj).template as { metadata: { labels: Record<string, string> }; spec: PodSpec });
const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

function checkReferences(all: Manifest[], where: string): void {
  const byKind = (kind: string) => all.filter((m) => m.kind === kind);
  const named = (kind: string, name: string) => byKind(kind).find((m) => m.metadata.name === name);
  const workloads = [...byKind("Deployment"), ...byKind("StatefulSet")];
  for (const w of workloads) {
    const pod = podOf(w);
    const selector = ((w.spec as Obj).selector as { matchLabels: Record<string, string> }).matchLabels;
    expect(matches(selector, pod.metadata.labels), `${where} ${w.metadata.name}: selector matches its pods`).toBe(true);
    for (const v of pod.spec.volumes ?? []) {
      if (v.configMap) expect(named("ConfigMap", v.configMap.name), `${where}: ConfigMap ${v.configMap.name}`).toBeDefined();
      if (v.persistentVolumeClaim) expect(named("PersistentVolumeClaim", v.persistentVolumeClaim.claimName), `${where}: PVC`).toBeDefined();
    }
    if (w.metadata.name === "switchyard-redis") continue;
    // A Switchyard pod: its config comes from the mounted ConfigMap; check it against the code.
    const configVolume = pod.spec.volumes?.find((v) => v.name === "config");
    const cm = named("ConfigMap", configVolume?.configMap?.name ?? "") as (Manifest & { data: Record<string, string> }) | undefined;
    expect(cm, `${where} ${w.metadata.name}: config ConfigMap`).toBeDefined();
    const config = configOf(cm!.data["config.yaml"]!);
    for (const c of pod.spec.containers) {
      for (const e of c.env ?? []) {
        expect(KNOWN_ENV.has(e.name) || e.name === "SWITCHYARD_CONFIG", `${where} ${w.metadata.name}: env ${e.name} is read by src/config`).toBe(true);
        const ref = e.valueFrom?.secretKeyRef;
        if (ref) {
          // stringData is not on Manifest: the cast names it.
          const secret = named("Secret", ref.name) as (Manifest & { stringData?: Record<string, string> }) | undefined;
          expect(secret?.stringData?.[ref.key], `${where}: Secret ${ref.name} has ${ref.key}`).toBeDefined();
        }
      }
      const configPath = c.env?.find((e) => e.name === "SWITCHYARD_CONFIG");
      const mount = c.volumeMounts?.find((m) => m.name === "config");
      expect(configPath?.value, `${where}: SWITCHYARD_CONFIG points into the config mount`).toBe(`${mount?.mountPath}/config.yaml`);
      const http = c.ports?.find((p) => p.name === "http");
      expect(http?.containerPort, `${where} ${w.metadata.name}: container port = config server.port`).toBe(config.server.port);
      expect(config.server.host).toBe("0.0.0.0");
      for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe]) {
        expect(probe?.httpGet, `${where} ${w.metadata.name}: every probe is an HTTP probe`).toBeDefined();
        expect(serverSource, `route ${probe!.httpGet!.path}`).toContain(`.get("${probe!.httpGet!.path}"`);
        expect(probe!.httpGet!.port).toBe("http");
      }
      expect(c.readinessProbe?.httpGet?.path).toBe("/readyz");
      expect(c.livenessProbe?.httpGet?.path).toBe("/healthz");
      expect(c.lifecycle?.preStop, `${where}: preStop`).toBeDefined();
    }
    // The pod gets longer than the drain budget plus the preStop pause.
    expect(pod.spec.terminationGracePeriodSeconds ?? 30).toBeGreaterThan(config.server.drainTimeoutMs / 1000 + 5);
    if (w.metadata.name === "switchyard-gateway") expect(config.redis.url).toBeDefined();
  }
  for (const s of byKind("Service")) {
    const spec = s.spec as { selector: Record<string, string>; ports: Array<{ targetPort: string | number }> };
    const targets = workloads.filter((w) => matches(spec.selector, podOf(w).metadata.labels));
    expect(targets.length, `${where}: Service ${s.metadata.name} selects a workload`).toBeGreaterThan(0);
    for (const p of spec.ports) {
      for (const t of targets) {
        expect(podOf(t).spec.containers.some((c) => c.ports?.some((cp) => cp.name === p.targetPort || cp.containerPort === p.targetPort))).toBe(true);
      }
    }
  }
  for (const pdb of byKind("PodDisruptionBudget")) {
    const selector = ((pdb.spec as Obj).selector as { matchLabels: Record<string, string> }).matchLabels;
    expect(workloads.some((w) => matches(selector, podOf(w).metadata.labels)), `${where}: PDB selects pods`).toBe(true);
  }
  // The gateway reaches Redis and the shard hosts by Service names defined here.
  const gatewayCm = named("ConfigMap", "switchyard-gateway-config") as (Manifest & { data: Record<string, string> }) | undefined;
  if (gatewayCm) {
    const upstream = new URL(configOf(gatewayCm.data["config.yaml"]!).models[0]!.upstream!);
    expect(named("Service", upstream.hostname), `${where}: upstream Service ${upstream.hostname}`).toBeDefined();
    const gw = podOf(named("Deployment", "switchyard-gateway")!).spec.containers[0]!;
    const redisUrl = gw.env?.find((e) => e.name === "SWITCHYARD_REDIS_URL")?.value ?? "";
    expect(named("Service", new URL(redisUrl).hostname)).toBeDefined();
  }
}

function checkScaling(all: Manifest[], targets: Manifest[]): void {
  for (const m of all) {
    if (m.kind !== "ScaledObject" && m.kind !== "HorizontalPodAutoscaler") continue;
    const ref = (m.spec as { scaleTargetRef: { kind: string; name: string } }).scaleTargetRef;
    expect(targets.some((t) => t.kind === ref.kind && t.metadata.name === ref.name), `${m.kind} targets ${ref.kind}/${ref.name}`).toBe(true);
    const text = JSON.stringify(m.spec);
    const used = [...text.matchAll(/switchyard_[a-z_]+/g)].map((x) => x[0]);
    expect(used.length, `${m.kind} names a metric`).toBeGreaterThan(0);
    for (const name of used) expect(METRICS.has(name), `metric ${name} is exported`).toBe(true);
  }
}

describe("Kubernetes manifests", () => {
  const base = render(path.join(K8S, "base"));

  it("every base manifest validates against its schema", () => {
    expect(base.map((m) => m.kind).sort()).toEqual(
      ["ConfigMap", "ConfigMap", "Deployment", "Deployment", "Namespace", "PersistentVolumeClaim", "PodDisruptionBudget", "ScaledObject", "Secret", "Service", "Service", "Service", "Service", "StatefulSet"].sort(),
    );
    for (const m of base) validate(m);
  });

  it("base manifests refer only to env vars, ports, routes, metrics and objects that exist", () => {
    checkReferences(base, "base");
    checkScaling(base, base);
  });

  it.each(["cpu", "gpu"])("the %s overlay renders to valid manifests with valid config", (overlay) => {
    const rendered = render(path.join(K8S, "overlays", overlay));
    expect(rendered).toHaveLength(base.length);
    for (const m of rendered) validate(m);
    checkReferences(rendered, overlay);
    const shards = rendered.find((m) => m.kind === "Deployment" && m.metadata.name === "switchyard-shards")!;
    const limits = podOf(shards).spec.containers[0]?.resources?.limits ?? {};
    if (overlay === "gpu") expect(limits["nvidia.com/gpu"]).toBe("1");
    else expect(limits["nvidia.com/gpu"]).toBeUndefined();
  });

  it("the HPA v2 alternative scales the same workload on the same metric", () => {
    const hpa = render(path.join(K8S, "autoscaling-hpa"));
    for (const m of hpa) validate(m);
    checkScaling(hpa, base);
    const keda = base.find((m) => m.kind === "ScaledObject")!;
    const metricOf = (m: Manifest) => JSON.stringify(m.spec).match(/switchyard_[a-z_]+/)?.[0];
    expect(metricOf(hpa[0]!)).toBe(metricOf(keda));
  });

  it("validation catches a broken manifest (the checks can fail)", () => {
    const gateway = structuredClone(base.find((m) => m.metadata.name === "switchyard-gateway")!);
    const container = podOf(gateway).spec.containers[0] as unknown as Obj;
    container.ports = [{ name: "http", containerPort: "8080" }];
    expect(() => validate(gateway)).toThrow();
    const keda = structuredClone(base.find((m) => m.kind === "ScaledObject")!);
    (keda.spec as Obj).triggers = "prometheus";
    expect(() => validate(keda)).toThrow();
    expect(() => validate({ apiVersion: "v9", kind: "Nope", metadata: { name: "x" } })).toThrow(/no schema/);
    const wrongMetric = structuredClone(keda);
    (wrongMetric.spec as Obj).triggers = [{ type: "prometheus", metadata: { query: "sum(switchyard_no_such_metric)" } }];
    expect(() => checkScaling([wrongMetric], base)).toThrow(/switchyard_no_such_metric/);
  });
});

describe("docker compose (single host)", () => {
  const dir = path.join(ROOT, "deploy/compose");
  const compose = parseYaml(readFileSync(path.join(dir, "compose.yaml"), "utf8"), { merge: true }) as {
    services: Record<string, { environment?: Record<string, string>; volumes?: string[]; depends_on?: Record<string, unknown>; ports?: string[] }>;
  };

  it("runs two gateways sharing one Redis in front of a shard host, with valid configs", () => {
    const services = compose.services;
    expect(Object.keys(services).sort()).toEqual(["gateway-a", "gateway-b", "redis", "shard-host"]);
    for (const [name, s] of Object.entries(services)) {
      for (const dep of Object.keys(s.depends_on ?? {})) expect(services[dep], `${name} depends on ${dep}`).toBeDefined();
      for (const key of Object.keys(s.environment ?? {})) {
        expect(KNOWN_ENV.has(key) || key === "SWITCHYARD_CONFIG", `${name}: env ${key} is read by src/config`).toBe(true);
      }
      const configPath = s.environment?.SWITCHYARD_CONFIG;
      if (!configPath) continue;
      const mounted = s.volumes?.find((v) => v.split(":")[1] === configPath);
      expect(mounted, `${name}: SWITCHYARD_CONFIG is mounted`).toBeDefined();
      const config = configOf(readFileSync(path.join(dir, mounted!.split(":")[0]!), "utf8"));
      expect(config.server).toMatchObject({ host: "0.0.0.0", port: 8080 });
      if (name.startsWith("gateway")) {
        expect(new URL(s.environment!.SWITCHYARD_REDIS_URL!).hostname).toBe("redis");
        expect(new URL(config.models[0]!.upstream!).hostname).toBe("shard-host");
        expect(s.ports?.[0]).toMatch(/:8080$/);
      }
    }
  });
});
