// Validate custom resources against their published models (@kubernetes-models/*).
//
// Usage: node tools/crd-schemas/validate.mjs < objects.json > problems.json
//   stdin:  a JSON array of Kubernetes objects
//   stdout: a JSON array, one entry per object: a list of {path: [segments], message}
//           (an empty list means valid)
//   exit 2 with one line on stderr when the models are not installed (run `make setup`).
//
// Why node: the packages ship ajv *standalone* validators (compiled JavaScript generated from the
// upstream Go types / CRDs), not JSON Schema documents, so there is nothing to extract for
// Python's jsonschema. mdeploy/kube_schema.py runs this script once per batch, not per object.
//
// Why the Proxy: the published validators do not reject unknown fields (the CRDs are structural
// and the API server rejects unknown fields under strict field validation / server-side apply,
// which Argo CD uses). Every compiled validator reads each property its schema declares
// (`data.spec`, `data.rules`, ...), and iterates objects whose schema is a map
// (additionalProperties). So we hand the validator a read-tracking view of the object and
// afterwards report every key of a checked object that the validator never looked at. Objects
// the validator never looks into (free-form `x-kubernetes-preserve-unknown-fields`, such as Helm
// valuesObject) are left alone, exactly like the API server does.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const nodeModules = join(here, "..", "..", "node_modules"); // the repository's `npm ci` output
const { kinds } = JSON.parse(readFileSync(join(here, "kinds.json"), "utf8"));

let localizeEn;
const validators = new Map(); // "apiVersion/kind" -> ajv validate function (imported once)

async function loadValidator(entry) {
  const key = `${entry.apiVersion}/${entry.kind}`;
  if (!validators.has(key)) {
    // By file URL: some packages do not list _schemas/ in their "exports".
    const mod = await import(pathToFileURL(join(nodeModules, entry.package, entry.file)).href);
    validators.set(key, mod.validate);
  }
  return validators.get(key);
}

// Wrap `root` so that every property read, `in` test and key enumeration is recorded per object.
function tracked(root) {
  const reads = new Map(); // raw object -> Set of keys read, or ALL when enumerated
  const proxies = new WeakMap();
  const ALL = "*all*";
  const note = (target, key) => {
    if (Array.isArray(target) || typeof key !== "string") return;
    const set = reads.get(target) ?? new Set();
    set.add(key);
    reads.set(target, set);
  };
  const wrap = (value) => {
    if (value === null || typeof value !== "object") return value;
    if (!proxies.has(value)) {
      proxies.set(value, new Proxy(value, {
        get(target, key, receiver) {
          note(target, key);
          return wrap(Reflect.get(target, key, receiver));
        },
        has(target, key) {
          note(target, key);
          return Reflect.has(target, key);
        },
        ownKeys(target) {
          if (!Array.isArray(target)) reads.set(target, new Set([ALL]));
          return Reflect.ownKeys(target);
        },
      }));
    }
    return proxies.get(value);
  };
  return { view: wrap(root), reads, ALL };
}

function unknownFields(node, path, reads, ALL, out) {
  if (node === null || typeof node !== "object") return;
  if (Array.isArray(node)) {
    node.forEach((item, i) => unknownFields(item, [...path, i], reads, ALL, out));
    return;
  }
  const seen = reads.get(node);
  if (seen === undefined) return; // never inspected: a free-form object
  for (const key of Object.keys(node)) {
    if (!seen.has(ALL) && !seen.has(key)) {
      out.push({ path: [...path, key], message: `unknown field "${key}"` });
    } else {
      unknownFields(node[key], [...path, key], reads, ALL, out);
    }
  }
}

function pointerToPath(pointer) {
  if (!pointer) return [];
  return pointer.slice(1).split("/").map((s) => {
    const seg = s.replace(/~1/g, "/").replace(/~0/g, "~");
    return /^\d+$/.test(seg) ? Number(seg) : seg;
  });
}

async function validateOne(obj) {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
    return [{ path: [], message: "not an object" }];
  }
  const entry = kinds.find((k) => k.apiVersion === obj.apiVersion && k.kind === obj.kind);
  if (!entry) {
    return [{ path: [], message: `no schema for ${obj.apiVersion} ${obj.kind}` }];
  }
  const validate = await loadValidator(entry);
  const { view, reads, ALL } = tracked(obj);
  const problems = [];
  if (!validate(view) && validate.errors) {
    localizeEn(validate.errors);
    for (const err of validate.errors) {
      let path = pointerToPath(err.instancePath);
      let message = err.message;
      if (err.keyword === "required") {
        path = [...path, err.params.missingProperty];
        message = "required field is missing";
      } else if (err.keyword === "enum") {
        message = `must be one of ${JSON.stringify(err.params.allowedValues)}`;
      }
      problems.push({ path, message });
    }
  }
  unknownFields(obj, [], reads, ALL, problems);
  // ajv reports the same failure once per anyOf/allOf branch: keep each distinct line once.
  const seen = new Set();
  return problems.filter((p) => {
    const key = JSON.stringify(p);
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

async function main() {
  try {
    localizeEn = (await import("ajv-i18n/localize/en/index.js")).default;
    // Fail early and clearly when `npm ci` has not run; validators themselves load lazily
    // (the Argo CD models alone take ~0.2 s to import).
    const missing = kinds.find((k) => !existsSync(join(nodeModules, k.package, k.file)));
    if (missing) throw new Error(`${missing.package}/${missing.file} not found`);
  } catch (err) {
    process.stderr.write(`custom resource models are not installed (${err.code ?? err.message}): run \`make setup\`\n`);
    process.exit(2);
  }
  const objects = JSON.parse(readFileSync(0, "utf8"));
  const results = [];
  for (const obj of objects) results.push(await validateOne(obj));
  process.stdout.write(JSON.stringify(results));
}

await main();
