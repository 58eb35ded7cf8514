{{/*
Names, labels and quantity arithmetic shared by every template.
Names come from .Values.service, never from the release name: Argo CD's release name is the
Application name (<service>-<env>), and object names must be the same in every environment.
*/}}

{{/* The service name. Usage: include "model-service.name" . */}}
{{- define "model-service.name" -}}
{{- .Values.service -}}
{{- end -}}

{{/* Namespace every object lives in: <environment.namespacePrefix><service>. Usage: include "model-service.namespace" . */}}
{{- define "model-service.namespace" -}}
{{- printf "%s%s" (.Values.environment.namespacePrefix | default "") (include "model-service.name" .) -}}
{{- end -}}

{{/* Object name of one component: <service>-cgi or <service>-<model>. Usage: include "model-service.fullname" (dict "context" $ "component" "cgi") */}}
{{- define "model-service.fullname" -}}
{{- printf "%s-%s" (include "model-service.name" .context) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Chart label value. Usage: include "model-service.chart" . */}}
{{- define "model-service.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" -}}
{{- end -}}

{{/* Selector labels (immutable: name, instance, component only). Usage: include "model-service.selectorLabels" (dict "context" $ "component" "cgi") */}}
{{- define "model-service.selectorLabels" -}}
app.kubernetes.io/name: {{ include "model-service.name" .context }}
app.kubernetes.io/instance: {{ include "model-service.instance" .context }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Instance label: <service>-<environment.name>, the Argo CD Application name. Usage: include "model-service.instance" . */}}
{{- define "model-service.instance" -}}
{{- printf "%s-%s" (include "model-service.name" .) (.Values.environment.name | default "default") | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full metadata labels; component optional (service-wide objects omit it). Usage: include "model-service.labels" (dict "context" $ "component" "cgi") */}}
{{- define "model-service.labels" -}}
{{- $ctx := .context -}}
app.kubernetes.io/name: {{ include "model-service.name" $ctx }}
app.kubernetes.io/instance: {{ include "model-service.instance" $ctx }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
app.kubernetes.io/part-of: model-service
app.kubernetes.io/managed-by: {{ $ctx.Release.Service }}
helm.sh/chart: {{ include "model-service.chart" $ctx }}
model-deploy.dev/service: {{ include "model-service.name" $ctx }}
model-deploy.dev/environment: {{ $ctx.Values.environment.name | default "default" }}
{{- with $ctx.Values.team }}
model-deploy.dev/team: {{ . }}
{{- end }}
{{- with .component }}
model-deploy.dev/role: {{ eq . "cgi" | ternary "cgi" "model-server" }}
{{- end }}
{{- end -}}

{{/* The model server keys, sorted (stable output). Usage: include "model-service.modelKeys" . | fromJsonArray */}}
{{- define "model-service.modelKeys" -}}
{{- keys (.Values.models | default dict) | sortAlpha | toJson -}}
{{- end -}}

{{/* Environment variable stem of a model key: ocr-v2 -> OCR_V2. Usage: include "model-service.envName" "ocr-v2" */}}
{{- define "model-service.envName" -}}
{{- . | upper | replace "-" "_" -}}
{{- end -}}

{{/* CPU quantity -> integer millicores ("2" -> 2000, 0.5 -> 500, "250m" -> 250). Usage: include "model-service.cpuMillis" "500m" | int */}}
{{- define "model-service.cpuMillis" -}}
{{- $s := toString . -}}
{{- if hasSuffix "m" $s -}}
{{- trimSuffix "m" $s | int -}}
{{- else -}}
{{- mulf (float64 $s) 1000 | ceil | int -}}
{{- end -}}
{{- end -}}

{{/* Memory quantity -> bytes as a float ("16Gi" -> 17179869184). Usage: include "model-service.memoryBytes" "16Gi" | float64 */}}
{{- define "model-service.memoryBytes" -}}
{{- $s := toString . -}}
{{- $units := dict "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 "K" 1000.0 "M" 1000000.0 "G" 1000000000.0 "T" 1000000000000.0 -}}
{{- $number := regexFind "^[0-9]+(\\.[0-9]+)?" $s -}}
{{- $unit := trimPrefix $number $s -}}
{{- mulf (float64 $number) (get $units $unit | default 1.0) -}}
{{- end -}}

{{/* Thread count that follows a CPU limit: ceil(cores), at least 1. Usage: include "model-service.cpuThreads" "1500m" | int */}}
{{- define "model-service.cpuThreads" -}}
{{- $millis := include "model-service.cpuMillis" . | int -}}
{{- max 1 (divf $millis 1000 | ceil | int) -}}
{{- end -}}

{{/* toYaml that fails instead of silently rendering nothing: Go's YAML encoder rejects strings
with C1 control characters (U+0080-U+009F) and Helm's toYaml then returns "". Usage: include "model-service.toYaml" (dict "value" $v "path" "cgi") */}}
{{- define "model-service.toYaml" -}}
{{- $out := toYaml .value -}}
{{- if and .value (not $out) -}}
{{- fail (printf "%s: a value holds characters YAML cannot encode (C1 control characters U+0080-U+009F); remove them" .path) -}}
{{- end -}}
{{- $out -}}
{{- end -}}
