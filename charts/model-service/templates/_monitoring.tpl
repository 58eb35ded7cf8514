{{/*
Helpers of the observability bundle (servicemonitor.yaml, podmonitor.yaml, prometheusrule.yaml,
dashboard-configmap.yaml). Every scraped series gets the labels model_service, environment,
team and component, so alerts and the dashboard filter on the same names in every cluster.
*/}}

{{/* Which monitor kind scrapes the components: "ServiceMonitor", "PodMonitor" or "" (no Prometheus operator). Usage: include "model-service.monitorKind" . */}}
{{- define "model-service.monitorKind" -}}
{{- $cluster := .Values.environment.cluster | default dict -}}
{{- if $cluster.prometheusOperator -}}
{{- $cluster.monitorKind | default "ServiceMonitor" -}}
{{- end -}}
{{- end -}}

{{/* Metadata labels of a monitoring object: chart labels plus environment.cluster.monitorLabels (what Prometheus selects on). Usage: include "model-service.monitoringLabels" (dict "context" $ "component" "cgi") */}}
{{- define "model-service.monitoringLabels" -}}
{{- include "model-service.labels" . }}
{{- range $key, $value := (.context.Values.environment.cluster | default dict).monitorLabels | default dict }}
{{ $key }}: {{ $value | quote }}
{{- end }}
{{- end -}}

{{/* Name of the port that serves a workload's metrics (metrics, or http when metrics share the REST port). Usage: include "model-service.metricsPortName" $w */}}
{{- define "model-service.metricsPortName" -}}
{{- $name := "" -}}
{{- range .ports -}}{{- if and (not $name) (eq (int .port) (int $.metricsPort)) -}}{{- $name = .name -}}{{- end -}}{{- end -}}
{{- $name -}}
{{- end -}}

{{/* Relabelings that stamp every scraped series with service, environment, team and component. Usage: include "model-service.scrapeRelabelings" (dict "context" $ "component" "cgi") */}}
{{- define "model-service.scrapeRelabelings" -}}
{{- $ctx := .context -}}
- action: replace
  targetLabel: model_service
  replacement: {{ include "model-service.name" $ctx | quote }}
- action: replace
  targetLabel: environment
  replacement: {{ $ctx.Values.environment.name | default "default" | quote }}
- action: replace
  targetLabel: team
  replacement: {{ $ctx.Values.team | default "" | quote }}
- action: replace
  targetLabel: component
  replacement: {{ .component | quote }}
{{- end -}}

{{/* The scrape endpoint of a workload (shared by ServiceMonitor endpoints and PodMonitor podMetricsEndpoints). Usage: include "model-service.scrapeEndpoint" (dict "context" $ "workload" $w) */}}
{{- define "model-service.scrapeEndpoint" -}}
- port: {{ include "model-service.metricsPortName" .workload }}
  path: {{ .workload.metricsPath }}
  scheme: http
  interval: 30s
  scrapeTimeout: 10s
  relabelings:
    {{- include "model-service.scrapeRelabelings" (dict "context" .context "component" .workload.component) | nindent 4 }}
{{- end -}}
