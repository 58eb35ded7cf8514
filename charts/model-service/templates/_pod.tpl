{{/*
The pod template every Deployment shares: identity, security, pull secrets, scheduling and
the containers of its runtime (from _containers.tpl).
*/}}

{{/* Pull secrets of the registries the given images come from (sorted, unique). Usage: include "model-service.pullSecrets" (dict "context" $ "images" (list "a" "b")) | fromJsonArray */}}
{{- define "model-service.pullSecrets" -}}
{{- $secrets := list -}}
{{- range $image := .images -}}
{{- range $registry := $.context.Values.environment.registries | default list -}}
{{- if and $registry.pullSecret (hasPrefix $registry.prefix $image) -}}
{{- $secrets = append $secrets $registry.pullSecret -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $secrets | uniq | sortAlpha | toJson -}}
{{- end -}}

{{/* A container's env list: plain variables (name -> value) then Secret references, sorted; a name in secretEnv wins. Usage: include "model-service.env" (dict "env" $plain "secretEnv" $secret) */}}
{{- define "model-service.env" -}}
{{- $secretEnv := .secretEnv | default dict -}}
{{- $plain := dict -}}
{{- range $name, $value := .env | default dict }}{{ if not (hasKey $secretEnv $name) }}{{ $_ := set $plain $name $value }}{{ end }}{{ end -}}
{{- range $name := keys $plain | sortAlpha }}
- name: {{ $name }}
  value: {{ index $plain $name | toString | quote }}
{{- end }}
{{- range $name := keys $secretEnv | sortAlpha }}
{{- $ref := index $secretEnv $name }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.secret }}
      key: {{ $ref.key | quote }}
{{- end }}
{{- end -}}

{{/* A probe: chart defaults overlaid with the service's overrides. Usage: include "model-service.probe" (dict "handler" $h "defaults" $d "overrides" $o) */}}
{{- define "model-service.probe" -}}
{{- $timing := merge (deepCopy (.overrides | default dict)) .defaults -}}
{{- $probe := merge (deepCopy .handler) dict -}}
{{- range $k := list "initialDelaySeconds" "periodSeconds" "timeoutSeconds" "failureThreshold" "successThreshold" -}}
{{- if hasKey $timing $k }}{{- $_ := set $probe $k (int (index $timing $k)) -}}{{- end -}}
{{- end -}}
{{- toJson $probe -}}
{{- end -}}

{{/* Container securityContext (restricted). Usage: include "model-service.containerSecurity" $ */}}
{{- define "model-service.containerSecurity" -}}
{{- toYaml .Values.security.container -}}
{{- end -}}

{{/* Pod template of one workload. Usage: include "model-service.podTemplate" (dict "context" $ "workload" $w) */}}
{{- define "model-service.podTemplate" -}}
{{- $ctx := .context -}}
{{- $w := .workload -}}
{{- $parts := include (printf "model-service.containers.%s" $w.runtime) (dict "context" $ctx "workload" $w) | fromYaml -}}
{{- if hasKey $parts "Error" -}}
{{- fail (printf "%s: a value holds characters YAML cannot encode (C1 control characters U+0080-U+009F); remove them (%s)" $w.path $parts.Error) -}}
{{- end -}}
{{- $images := list -}}
{{- range concat ($parts.initContainers | default list) $parts.containers }}{{- $images = append $images .image -}}{{- end -}}
{{- $pullSecrets := include "model-service.pullSecrets" (dict "context" $ctx "images" $images) | fromJsonArray -}}
metadata:
  labels:
    {{- include "model-service.labels" (dict "context" $ctx "component" $w.component) | nindent 4 }}
    model-deploy.dev/runtime: {{ $w.runtime }}
  annotations:
    kubectl.kubernetes.io/default-container: {{ (first $parts.containers).name }}
    {{- with $parts.checksum }}
    # Roll the pods when the generated server config (model list, batching, probe script) changes.
    checksum/config: {{ . }}
    {{- end }}
    {{- with $w.gpu.annotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "model-service.name" $ctx }}
  automountServiceAccountToken: false
  enableServiceLinks: false
  securityContext:
    {{- toYaml $ctx.Values.security.pod | nindent 4 }}
  {{- with $pullSecrets }}
  imagePullSecrets:
    {{- range . }}
    - name: {{ . }}
    {{- end }}
  {{- end }}
  terminationGracePeriodSeconds: {{ $parts.terminationGracePeriodSeconds | default 60 | int }}
  {{- with $parts.initContainers }}
  initContainers:
    {{- include "model-service.toYaml" (dict "value" . "path" $w.path) | nindent 4 }}
  {{- end }}
  containers:
    {{- include "model-service.toYaml" (dict "value" $parts.containers "path" $w.path) | nindent 4 }}
  volumes:
    {{- include "model-service.toYaml" (dict "value" $parts.volumes "path" $w.path) | nindent 4 }}
  {{- with $w.gpu.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if and $w.gpu.count $w.gpu.tolerate }}
  tolerations:
    - key: nvidia.com/gpu
      operator: Exists
      effect: NoSchedule
  {{- end }}
  {{- if $w.spread }}
  # Prod: spread replicas across nodes so one node failure never takes the whole component.
  topologySpreadConstraints:
    - maxSkew: 1
      topologyKey: kubernetes.io/hostname
      whenUnsatisfiable: DoNotSchedule
      labelSelector:
        matchLabels:
          {{- include "model-service.selectorLabels" (dict "context" $ctx "component" $w.component) | nindent 10 }}
      matchLabelKeys: [pod-template-hash]
  {{- end }}
{{- end -}}
