// Check PromQL syntax with Prometheus' own grammar (@prometheus-io/lezer-promql, the parser of
// the Prometheus web UI editor).
//
// Usage: node tools/crd-schemas/promql.mjs < exprs.json > problems.json
//   stdin:  a JSON array of PromQL expressions (Grafana variables already substituted)
//   stdout: a JSON array, one entry per expression: a list of "column N: ..." messages
//           (empty = the expression parses)
import { readFileSync } from "node:fs";
import { parser } from "@prometheus-io/lezer-promql";

function problems(expr) {
  const out = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) {
        const near = expr.slice(node.from, node.from + 20) || "<end>";
        out.push(`column ${node.from + 1}: syntax error near ${JSON.stringify(near)}`);
      }
    },
  });
  return out;
}

const exprs = JSON.parse(readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(exprs.map(problems)));
