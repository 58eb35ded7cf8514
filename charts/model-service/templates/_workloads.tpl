{{/*
One normalized description per Deployment, computed once from values + environment so every
kind (Deployment, Service, HPA, PDB, NetworkPolicy, monitors) agrees on names, ports, effective
replicas (after gray caps), effective resources and the autoscaler that owns replicas.
*/}}

{{/* Components in render order: "cgi", then each model key sorted. Usage: include "model-service.components" . | fromJsonArray */}}
{{- define "model-service.components" -}}
{{- $keys := include "model-service.modelKeys" . | fromJsonArray -}}
{{- if has "cgi" $keys -}}
{{- fail "models.cgi: the model server name cgi is reserved (its objects would be named like the CGI's <service>-cgi); rename the entry" -}}
{{- end -}}
{{- prepend $keys "cgi" | toJson -}}
{{- end -}}

{{/* Clamp a CPU quantity to a cap (the cap may be absent). Usage: include "model-service.clampCpu" (list "4" "2") */}}
{{- define "model-service.clampCpu" -}}
{{- $value := index . 0 -}}{{- $cap := index . 1 -}}
{{- if and (not (kindIs "invalid" $cap)) (gt (include "model-service.cpuMillis" $value | int) (include "model-service.cpuMillis" $cap | int)) -}}
{{- toString $cap -}}
{{- else -}}
{{- toString $value -}}
{{- end -}}
{{- end -}}

{{/* Clamp a memory quantity to a cap (the cap may be absent). Usage: include "model-service.clampMemory" (list "16Gi" "8Gi") */}}
{{- define "model-service.clampMemory" -}}
{{- $value := index . 0 -}}{{- $cap := index . 1 -}}
{{- if and (not (kindIs "invalid" $cap)) (gt (include "model-service.memoryBytes" $value | float64) (include "model-service.memoryBytes" $cap | float64)) -}}
{{- toString $cap -}}
{{- else -}}
{{- toString $value -}}
{{- end -}}
{{- end -}}

{{/* Effective CPU/memory requests and limits: gray caps applied, requests <= limits checked. Usage: include "model-service.resources" (dict "context" $ "resources" .resources "path" "cgi.resources") | fromYaml */}}
{{- define "model-service.resources" -}}
{{- $caps := .context.Values.environment.caps | default dict -}}
{{- $path := .path -}}
{{- /* Presence of requests and limits is the schema's job; their relation is checked here. */ -}}
{{- $requests := .resources.requests -}}
{{- $limits := .resources.limits -}}
{{- if gt (include "model-service.cpuMillis" $requests.cpu | int) (include "model-service.cpuMillis" $limits.cpu | int) -}}
{{- fail (printf "%s.requests.cpu (%v) must not exceed %s.limits.cpu (%v)" $path $requests.cpu $path $limits.cpu) -}}
{{- end -}}
{{- if gt (include "model-service.memoryBytes" $requests.memory | float64) (include "model-service.memoryBytes" $limits.memory | float64) -}}
{{- fail (printf "%s.requests.memory (%v) must not exceed %s.limits.memory (%v)" $path $requests.memory $path $limits.memory) -}}
{{- end -}}
requests:
  cpu: {{ include "model-service.clampCpu" (list $requests.cpu $caps.cpu) | quote }}
  memory: {{ include "model-service.clampMemory" (list $requests.memory $caps.memory) | quote }}
limits:
  cpu: {{ include "model-service.clampCpu" (list $limits.cpu $caps.cpu) | quote }}
  memory: {{ include "model-service.clampMemory" (list $limits.memory $caps.memory) | quote }}
{{- end -}}

{{/* GPU resources and scheduling of one model server ({} when CPU only). Usage: include "model-service.gpu" (dict "context" $ "gpu" .gpu "path" "models.ocr.gpu" "runtime" "triton") | fromYaml */}}
{{- define "model-service.gpu" -}}
{{- $env := .context.Values.environment -}}
{{- $cluster := $env.cluster | default dict -}}
{{- $gpu := .gpu | default dict -}}
{{- $path := .path -}}
{{- $count := int ($gpu.count | default 0) -}}
{{- $caps := $env.caps | default dict -}}
{{- if and (hasKey $caps "gpus") (gt $count (int $caps.gpus)) -}}{{- $count = int $caps.gpus -}}{{- end -}}
{{- if gt $count 0 -}}
{{- $mode := $gpu.mode | default "whole" -}}
{{- $offered := $cluster.gpuModes | default (list "whole") -}}
{{- if not (has $mode $offered) -}}
{{- fail (printf "%s.mode: %s is not offered by environment %s (it offers %s); use one of those or remove the mode" $path $mode ($env.name | default "?") (join ", " $offered)) -}}
{{- end -}}
{{- $resources := dict -}}
{{- $annotations := dict -}}
{{- $fraction := "" -}}
{{- if eq $mode "whole" -}}
{{- $_ := set $resources "nvidia.com/gpu" $count -}}
{{- else if eq $mode "timeslice" -}}
{{- if ne $count 1 -}}
{{- fail (printf "%s.count: time-sliced GPUs are shared per pod, so count must be 1 (got %d)" $path $count) -}}
{{- end -}}
{{- $_ := set $resources ($cluster.timesliceResource | default "nvidia.com/gpu.shared") 1 -}}
{{- else if eq $mode "mig" -}}
{{- $profile := required (printf "%s.migProfile: required when mode is mig (e.g. 1g.10gb)" $path) $gpu.migProfile -}}
{{- $_ := set $resources (printf "nvidia.com/mig-%s" $profile) $count -}}
{{- else if eq $mode "hami" -}}
{{- if not (or $gpu.memoryMiB $gpu.coresPercent) -}}
{{- fail (printf "%s: mode hami needs memoryMiB and/or coresPercent (otherwise use mode whole)" $path) -}}
{{- end -}}
{{- $_ := set $resources "nvidia.com/gpu" $count -}}
{{- with $gpu.memoryMiB }}{{- $_ := set $resources "nvidia.com/gpumem" (int .) -}}{{- end -}}
{{- with $gpu.coresPercent }}{{- $_ := set $resources "nvidia.com/gpucores" (int .) -}}{{- end -}}
{{- with $gpu.type }}{{- $_ := set $annotations "nvidia.com/use-gputype" . -}}{{- end -}}
{{- end -}}
{{- if and (ne $mode "mig") $gpu.migProfile -}}
{{- fail (printf "%s.migProfile: only valid with mode mig (mode is %s)" $path $mode) -}}
{{- end -}}
{{- if and (ne $mode "hami") (or $gpu.memoryMiB $gpu.coresPercent $gpu.type) -}}
{{- fail (printf "%s: memoryMiB, coresPercent and type are HAMi settings; set mode hami or remove them" $path) -}}
{{- end -}}
count: {{ $count }}
mode: {{ $mode }}
resources: {{ toJson $resources }}
annotations: {{ toJson $annotations }}
{{- with $gpu.product }}
nodeSelector: {{ dict "nvidia.com/gpu.product" . | toJson }}
{{- end }}
tolerate: {{ $cluster.gpuToleration | default false }}
{{- end -}}
{{- end -}}

{{/* The normalized workload of one component. Usage: include "model-service.workload" (dict "context" $ "component" "cgi") | fromYaml */}}
{{- define "model-service.workload" -}}
{{- $ctx := .context -}}
{{- $env := $ctx.Values.environment -}}
{{- $component := .component -}}
{{- $isCgi := eq $component "cgi" -}}
{{- $spec := $isCgi | ternary $ctx.Values.cgi (index ($ctx.Values.models | default dict) $component) -}}
{{- $path := $isCgi | ternary "cgi" (printf "models.%s" $component) -}}
{{- $runtime := $isCgi | ternary "cgi" $spec.runtime -}}
{{- $prod := eq $env.tier "prod" -}}
{{- /* Replicas: written value, clamped to the environment cap. */ -}}
{{- $replicas := int (hasKey $spec "replicas" | ternary $spec.replicas 2) -}}
{{- $caps := $env.caps | default dict -}}
{{- if and (hasKey $caps "replicas") (gt $replicas (int $caps.replicas)) -}}{{- $replicas = int $caps.replicas -}}{{- end -}}
{{- /* Autoscaling exists only in prod; in gray the Deployment stays at its cap. */ -}}
{{- $as := $spec.autoscaling | default dict -}}
{{- $autoscaler := "" -}}
{{- if and $prod $as.enabled -}}
{{- $min := int ($as.minReplicas | default 2) -}}
{{- $maxReplicas := int ($as.maxReplicas | default 10) -}}
{{- if gt $min $maxReplicas -}}
{{- fail (printf "%s.autoscaling.maxReplicas (%d) must be >= %s.autoscaling.minReplicas (%d)" $path $maxReplicas $path $min) -}}
{{- end -}}
{{- $metric := $as.metric | default "cpu" -}}
{{- if eq $metric "cpu" -}}
{{- $autoscaler = "hpa" -}}
{{- else if ($env.cluster | default dict).keda -}}
{{- $autoscaler = "keda" -}}
{{- else if ($env.cluster | default dict).metricsAdapter -}}
{{- $autoscaler = "hpa" -}}
{{- else -}}
{{- fail (printf "%s.autoscaling.metric: queue-time needs environment.cluster.metricsAdapter or environment.cluster.keda in environment %s; use metric cpu" $path ($env.name | default "?")) -}}
{{- end -}}
{{- if and (ne $metric "cpu") (ne $runtime "triton") -}}
{{- fail (printf "%s.autoscaling.metric: queue-time is a Triton metric; runtime %s scales on cpu" $path $runtime) -}}
{{- end -}}
{{- $replicas = $min -}}
{{- end -}}
{{- if and $prod (lt $replicas 2) -}}
{{- fail (printf "%s.replicas: prod needs at least 2 replicas so a node failure or rollout never drops requests (got %d)" $path $replicas) -}}
{{- end -}}
{{- /* Ports: name -> number, plus which serve HTTP, gRPC and metrics. */ -}}
{{- $ports := list -}}
{{- $http := 0 -}}{{- $grpc := 0 -}}{{- $metricsPort := 0 -}}{{- $metricsPath := "" -}}
{{- $modelNames := list -}}
{{- if $isCgi -}}
{{- $http = int $spec.port -}}
{{- $ports = list (dict "name" "http" "port" $http) -}}
{{- with $spec.metricsPath }}{{- $metricsPort = $http -}}{{- $metricsPath = . -}}{{- end -}}
{{- else if eq $runtime "triton" -}}
{{- $http = 8000 -}}{{- $grpc = 8001 -}}{{- $metricsPort = 8002 -}}{{- $metricsPath = "/metrics" -}}
{{- $ports = list (dict "name" "http" "port" 8000) (dict "name" "grpc" "port" 8001) (dict "name" "metrics" "port" 8002) -}}
{{- $modelNames = $spec.triton.models | default list -}}
{{- else if eq $runtime "tfserving" -}}
{{- $http = 8501 -}}{{- $grpc = 8500 -}}
{{- $ports = list (dict "name" "grpc" "port" 8500) (dict "name" "http" "port" 8501) -}}
{{- if or (not (hasKey $spec.tfserving "monitoring")) $spec.tfserving.monitoring -}}
{{- $metricsPort = 8501 -}}{{- $metricsPath = "/monitoring/prometheus/metrics" -}}
{{- end -}}
{{- range $spec.tfserving.models }}{{- $modelNames = append $modelNames .name -}}{{- end -}}
{{- else -}}
{{- $seenNames := dict -}}{{- $seenPorts := dict -}}
{{- range $spec.custom.ports -}}
{{- if or (hasKey $seenNames .name) (hasKey $seenPorts (toString .port)) -}}
{{- fail (printf "%s.custom.ports: port names and numbers must be unique (%s/%v repeats)" $path .name .port) -}}
{{- end -}}
{{- $_ := set $seenNames .name true -}}{{- $_ := set $seenPorts (toString .port) true -}}
{{- $ports = append $ports (dict "name" .name "port" (int .port)) -}}
{{- if and (eq .name "grpc") (eq $grpc 0) }}{{ $grpc = int .port }}{{ end -}}
{{- if and (eq .name "http") (eq $http 0) }}{{ $http = int .port }}{{ end -}}
{{- end -}}
{{- if eq $http 0 }}{{ $http = int (first $spec.custom.ports).port }}{{ end -}}
{{- with $spec.custom.metricsPath }}{{- $metricsPort = $http -}}{{- $metricsPath = . -}}{{- end -}}
{{- $modelNames = $spec.custom.models | default list -}}
{{- end -}}
{{- $gpu := $isCgi | ternary dict (include "model-service.gpu" (dict "context" $ctx "gpu" $spec.gpu "path" (printf "%s.gpu" $path)) | fromYaml) -}}
{{- $multi := or (ge $replicas 2) (ne $autoscaler "") -}}
component: {{ $component }}
name: {{ include "model-service.fullname" (dict "context" $ctx "component" $component) }}
path: {{ $path }}
runtime: {{ $runtime }}
replicas: {{ $replicas }}
autoscaler: {{ $autoscaler | quote }}
pdb: {{ and $prod $multi }}
spread: {{ and $prod $multi }}
resources: {{ include "model-service.resources" (dict "context" $ctx "resources" $spec.resources "path" (printf "%s.resources" $path)) | fromYaml | toJson }}
gpu: {{ toJson $gpu }}
ports: {{ toJson $ports }}
httpPort: {{ $http }}
grpcPort: {{ $grpc }}
metricsPort: {{ $metricsPort }}
metricsPath: {{ $metricsPath | quote }}
models: {{ toJson $modelNames }}
{{- end -}}
