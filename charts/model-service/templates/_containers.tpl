{{/*
Containers, init containers and volumes of each runtime. Each helper returns YAML:
{containers, initContainers, volumes, checksum, terminationGracePeriodSeconds}; _pod.tpl
wraps it in the shared pod spec.
*/}}

{{/* Environment variables that tell the CGI where each model server is. Usage: include "model-service.modelServerEnv" $ | fromYaml */}}
{{- define "model-service.modelServerEnv" -}}
{{- $ctx := . -}}
{{- $keys := include "model-service.modelKeys" $ctx | fromJsonArray -}}
MODEL_SERVERS: {{ join "," $keys | quote }}
{{- range $key := $keys }}
{{- $w := include "model-service.workload" (dict "context" $ctx "component" $key) | fromYaml }}
{{- $stem := printf "MODEL_%s" (include "model-service.envName" $key) }}
{{ $stem }}_HOST: {{ $w.name | quote }}
{{ $stem }}_HTTP_PORT: {{ $w.httpPort | toString | quote }}
{{- if $w.grpcPort }}
{{ $stem }}_GRPC_PORT: {{ $w.grpcPort | toString | quote }}
{{- end }}
{{ $stem }}_MODELS: {{ join "," $w.models | quote }}
{{- end }}
{{- end -}}

{{/* Thread and worker counts that follow the CPU limit (Python model code must not spawn 100+ threads on 2 CPUs). Usage: include "model-service.concurrencyEnv" (dict "cpu" "2" "concurrency" $c) | fromYaml */}}
{{- define "model-service.concurrencyEnv" -}}
{{- $cores := include "model-service.cpuThreads" .cpu | int -}}
{{- $c := .concurrency | default dict -}}
{{- $workers := int ($c.workers | default $cores) -}}
{{- $threads := int ($c.threads | default $cores) -}}
WEB_CONCURRENCY: {{ $workers | quote }}
OMP_NUM_THREADS: {{ $threads | quote }}
MKL_NUM_THREADS: {{ $threads | quote }}
OPENBLAS_NUM_THREADS: {{ $threads | quote }}
NUMEXPR_NUM_THREADS: {{ $threads | quote }}
NUMEXPR_MAX_THREADS: {{ $threads | quote }}
VECLIB_MAXIMUM_THREADS: {{ $threads | quote }}
TF_NUM_INTRAOP_THREADS: {{ $threads | quote }}
TF_NUM_INTEROP_THREADS: {{ $threads | quote }}
{{- end -}}

{{/* The container resources of a workload: CPU/memory plus GPUs (requests = limits). Usage: include "model-service.containerResources" $w */}}
{{- define "model-service.containerResources" -}}
{{- $r := deepCopy .resources -}}
{{- range $name, $n := (.gpu | default dict).resources | default dict -}}
{{- $_ := set $r.requests $name (int $n) -}}
{{- $_ := set $r.limits $name (int $n) -}}
{{- end -}}
{{- toYaml $r -}}
{{- end -}}

{{/* CGI: HTTP front end, no GPU. Usage: include "model-service.containers.cgi" (dict "context" $ "workload" $w) */}}
{{- define "model-service.containers.cgi" -}}
{{- $ctx := .context -}}
{{- $w := .workload -}}
{{- $cgi := $ctx.Values.cgi -}}
{{- $preStop := int (hasKey $cgi "preStopSeconds" | ternary $cgi.preStopSeconds 10) -}}
{{- $grace := int ($cgi.terminationGracePeriodSeconds | default 60) -}}
{{- if and (gt $preStop 0) (le $grace $preStop) -}}
{{- fail (printf "cgi.terminationGracePeriodSeconds (%d) must be greater than cgi.preStopSeconds (%d): the grace period includes the preStop delay" $grace $preStop) -}}
{{- end -}}
{{- $env := merge (include "model-service.modelServerEnv" $ctx | fromYaml) (include "model-service.concurrencyEnv" (dict "cpu" $w.resources.limits.cpu "concurrency" $cgi.concurrency) | fromYaml) -}}
{{- $env = merge (deepCopy ($cgi.env | default dict)) $env -}}
{{- $probes := $cgi.probes | default dict -}}
{{- $handler := dict "httpGet" (dict "path" ($cgi.healthPath | default "/api/ping") "port" "http") -}}
terminationGracePeriodSeconds: {{ $grace }}
containers:
  - name: cgi
    image: {{ $cgi.image | quote }}
    imagePullPolicy: IfNotPresent
    {{- with $cgi.command }}
    command: {{ toJson . }}
    {{- end }}
    {{- with $cgi.args }}
    args: {{ toJson . }}
    {{- end }}
    ports:
      - name: http
        containerPort: {{ $w.httpPort }}
        protocol: TCP
    env:
      {{- include "model-service.env" (dict "env" $env "secretEnv" $cgi.secretEnv) | indent 6 }}
    resources:
      {{- include "model-service.containerResources" $w | nindent 6 }}
    # Startup: up to 2 minutes to boot before liveness applies.
    startupProbe: {{ include "model-service.probe" (dict "handler" $handler "defaults" (dict "periodSeconds" 5 "timeoutSeconds" 2 "failureThreshold" 24) "overrides" $probes.startup) }}
    # Readiness: quick to pull a slow or failing pod out of traffic (2 misses, 10 s).
    readinessProbe: {{ include "model-service.probe" (dict "handler" $handler "defaults" (dict "periodSeconds" 5 "timeoutSeconds" 2 "failureThreshold" 2 "successThreshold" 1) "overrides" $probes.readiness) }}
    # Liveness: tolerant (6 misses of 5 s over a minute) so a pod busy under load is not killed.
    livenessProbe: {{ include "model-service.probe" (dict "handler" $handler "defaults" (dict "periodSeconds" 10 "timeoutSeconds" 5 "failureThreshold" 6) "overrides" $probes.liveness) }}
    {{- if gt $preStop 0 }}
    lifecycle:
      preStop:
        sleep:
          seconds: {{ $preStop }}
    {{- end }}
    securityContext:
      {{- include "model-service.containerSecurity" $ctx | nindent 6 }}
    volumeMounts:
      - name: tmp
        mountPath: /tmp
volumes:
  - name: tmp
    emptyDir: {}
{{- end -}}

{{/* Common tail of a model server container: resources, preStop, security. Usage: include "model-service.serverTail" (dict "context" $ "workload" $w) */}}
{{- define "model-service.serverTail" -}}
resources:
  {{- include "model-service.containerResources" .workload | nindent 2 }}
lifecycle:
  preStop:
    sleep:
      seconds: 10
securityContext:
  {{- include "model-service.containerSecurity" .context | nindent 2 }}
{{- end -}}

{{/* Container ports of a workload. Usage: include "model-service.containerPorts" $w */}}
{{- define "model-service.containerPorts" -}}
{{- range .ports }}
- name: {{ .name }}
  containerPort: {{ int .port }}
  protocol: TCP
{{- end }}
{{- end -}}

{{/* Triton Inference Server. Usage: include "model-service.containers.triton" (dict "context" $ "workload" $w) */}}
{{- define "model-service.containers.triton" -}}
{{- $ctx := .context -}}
{{- $w := .workload -}}
{{- $spec := index $ctx.Values.models $w.component -}}
{{- $triton := $spec.triton -}}
{{- $repo := $triton.repository -}}
{{- $mode := $triton.modelControlMode | default "none" -}}
{{- $models := $triton.models | default list -}}
{{- if and (eq $mode "explicit") (not $models) -}}
{{- fail (printf "%s.triton.models: explicit model control mode loads only the listed models, so list at least one" $w.path) -}}
{{- end -}}
{{- $config := include "model-service.serverConfig" (dict "context" $ctx "workload" $w) | fromYaml -}}
{{- $repoPath := "/models" -}}
{{- if $repo.path }}{{ $repoPath = $repo.path }}{{ else if $repo.uri }}{{ $repoPath = $repo.uri }}{{ end -}}
{{- $args := list (printf "--model-repository=%s" $repoPath) (printf "--model-control-mode=%s" $mode) -}}
{{- if eq $mode "explicit" }}{{- range $models }}{{- $args = append $args (printf "--load-model=%s" .) -}}{{- end -}}{{- end -}}
{{- $args = concat $args (list "--strict-readiness=true" "--exit-on-error=true" "--http-port=8000" "--grpc-port=8001" "--metrics-port=8002" "--allow-metrics=true") ($triton.extraArgs | default list) -}}
{{- $startup := int ($triton.startupSeconds | default 600) -}}
{{- $ready := dict "httpGet" (dict "path" "/v2/health/ready" "port" "http") -}}
{{- if eq $mode "explicit" -}}
{{- $paths := list -}}
{{- range $models }}{{- $paths = append $paths (printf "/v2/models/%s/ready" .) -}}{{- end -}}
{{- $ready = dict "exec" (dict "command" (concat (list "/bin/bash" "/etc/model-service/ready.sh" "8000" "200") $paths)) -}}
{{- end -}}
{{- $volumes := list (dict "name" "tmp" "emptyDir" dict) (dict "name" "dshm" "emptyDir" (dict "medium" "Memory" "sizeLimit" "1Gi")) -}}
{{- $mounts := list (dict "name" "tmp" "mountPath" "/tmp") (dict "name" "dshm" "mountPath" "/dev/shm") -}}
{{- $initContainers := list -}}
{{- if $repo.pvc -}}
{{- $volumes = append $volumes (dict "name" "models" "persistentVolumeClaim" (dict "claimName" $repo.pvc.claimName "readOnly" true)) -}}
{{- $mount := dict "name" "models" "mountPath" "/models" "readOnly" true -}}
{{- with $repo.pvc.subPath }}{{- $_ := set $mount "subPath" . -}}{{- end -}}
{{- $mounts = append $mounts $mount -}}
{{- else if $repo.initializer -}}
{{- $init := $repo.initializer -}}
{{- $emptyDir := dict -}}
{{- with $init.sizeLimit }}{{- $_ := set $emptyDir "sizeLimit" . -}}{{- end -}}
{{- $volumes = append $volumes (dict "name" "models" "emptyDir" $emptyDir) -}}
{{- $mounts = append $mounts (dict "name" "models" "mountPath" "/models" "readOnly" true) -}}
{{- $initResources := $init.resources | default (dict "requests" (dict "cpu" "500m" "memory" "512Mi") "limits" (dict "cpu" "1" "memory" "1Gi")) -}}
{{- $initEnv := merge (deepCopy ($init.env | default dict)) (dict "MODEL_REPOSITORY" "/models") -}}
{{- $initContainer := dict "name" "model-initializer" "image" $init.image "imagePullPolicy" "IfNotPresent" -}}
{{- with $init.command }}{{- $_ := set $initContainer "command" . -}}{{- end -}}
{{- with $init.args }}{{- $_ := set $initContainer "args" . -}}{{- end -}}
{{- $_ := set $initContainer "env" (include "model-service.env" (dict "env" $initEnv "secretEnv" $init.secretEnv) | fromYamlArray) -}}
{{- $_ := set $initContainer "resources" (include "model-service.resources" (dict "context" $ctx "resources" $initResources "path" (printf "%s.triton.repository.initializer.resources" $w.path)) | fromYaml) -}}
{{- $_ := set $initContainer "securityContext" $ctx.Values.security.container -}}
{{- $_ := set $initContainer "volumeMounts" (list (dict "name" "models" "mountPath" "/models") (dict "name" "tmp" "mountPath" "/tmp")) -}}
{{- $initContainers = append $initContainers $initContainer -}}
{{- end -}}
{{- if $config -}}
{{- $volumes = append $volumes (dict "name" "server-config" "configMap" (dict "name" $w.name)) -}}
{{- $mounts = append $mounts (dict "name" "server-config" "mountPath" "/etc/model-service" "readOnly" true) -}}
{{- end -}}
terminationGracePeriodSeconds: 60
{{- if $config }}
checksum: {{ toJson $config | sha256sum }}
{{- end }}
initContainers: {{ toJson $initContainers }}
containers:
  - name: triton
    image: {{ $spec.image | quote }}
    imagePullPolicy: IfNotPresent
    command: ["tritonserver"]
    args: {{ toJson $args }}
    ports:
      {{- include "model-service.containerPorts" $w | indent 6 }}
    {{- $env := $spec.env | default dict }}
    {{- if or $env $spec.secretEnv }}
    env:
      {{- include "model-service.env" (dict "env" $env "secretEnv" $spec.secretEnv) | indent 6 }}
    {{- end }}
    {{- with $repo.credentialsSecret }}
    # Object-storage credentials (AWS_*, GOOGLE_APPLICATION_CREDENTIALS, AZURE_*) for --model-repository.
    envFrom:
      - secretRef:
          name: {{ . }}
    {{- end }}
    # Startup: the model-load budget ({{ $w.path }}.triton.startupSeconds = {{ $startup }} s).
    startupProbe: {{ toJson (merge (dict "periodSeconds" 10 "timeoutSeconds" 5 "failureThreshold" (max 1 (div $startup 10))) $ready) }}
    readinessProbe: {{ toJson (merge (dict "periodSeconds" 5 "timeoutSeconds" 5 "failureThreshold" 2) $ready) }}
    livenessProbe:
      httpGet:
        path: /v2/health/live
        port: http
      periodSeconds: 10
      timeoutSeconds: 5
      failureThreshold: 6
    {{- include "model-service.serverTail" (dict "context" $ctx "workload" $w) | nindent 4 }}
    volumeMounts: {{ toJson $mounts }}
volumes: {{ toJson $volumes }}
{{- end -}}

{{/* TF-Serving. Usage: include "model-service.containers.tfserving" (dict "context" $ "workload" $w) */}}
{{- define "model-service.containers.tfserving" -}}
{{- $ctx := .context -}}
{{- $w := .workload -}}
{{- $spec := index $ctx.Values.models $w.component -}}
{{- $tf := $spec.tfserving -}}
{{- $config := include "model-service.serverConfig" (dict "context" $ctx "workload" $w) | fromYaml -}}
{{- $poll := int (hasKey $tf "pollSeconds" | ternary $tf.pollSeconds 60) -}}
{{- $args := list "--port=8500" "--rest_api_port=8501" "--model_config_file=/etc/model-service/models.config" (printf "--model_config_file_poll_wait_seconds=%d" $poll) (printf "--file_system_poll_wait_seconds=%d" $poll) -}}
{{- if $tf.batching -}}
{{- $args = concat $args (list "--enable_batching=true" "--batching_parameters_file=/etc/model-service/batching.config") -}}
{{- end -}}
{{- if $w.metricsPath -}}
{{- $args = append $args "--monitoring_config_file=/etc/model-service/monitoring.config" -}}
{{- end -}}
{{- with $tf.gpuMemoryFraction -}}
{{- $args = append $args (printf "--per_process_gpu_memory_fraction=%v" .) -}}
{{- else -}}
{{- with include "model-service.gpuMemoryFraction" (dict "context" $ctx "workload" $w) -}}
{{- $args = append $args (printf "--per_process_gpu_memory_fraction=%s" .) -}}
{{- end -}}
{{- end -}}
{{- $args = concat $args ($tf.extraArgs | default list) -}}
{{- $paths := list -}}
{{- range $tf.models }}{{- $paths = append $paths (printf "/v1/models/%s" .name) -}}{{- end -}}
{{- /* Readiness: the model status API answers 200 while a version is still LOADING, so a
plain httpGet is not enough; the script requires state AVAILABLE for every declared model. */ -}}
{{- $ready := dict "exec" (dict "command" (concat (list "/bin/bash" "/etc/model-service/ready.sh" "8501" "\"AVAILABLE\"") $paths)) -}}
{{- $env := $spec.env | default dict -}}
{{- if $w.gpu.count -}}
{{- /* The official GPU image finds no GPU unless the driver directories come before the CUDA stubs. */ -}}
{{- $env = merge (deepCopy $env) (dict "LD_LIBRARY_PATH" "/usr/local/nvidia/lib64:/usr/local/nvidia/lib:/usr/local/cuda/lib64:/usr/local/cuda/extras/CUPTI/lib64:/usr/local/cuda/lib64/stubs") -}}
{{- end -}}
terminationGracePeriodSeconds: 60
checksum: {{ toJson $config | sha256sum }}
initContainers: []
containers:
  - name: tfserving
    image: {{ $spec.image | quote }}
    imagePullPolicy: IfNotPresent
    command: ["/usr/bin/tensorflow_model_server"]
    args: {{ toJson $args }}
    ports:
      {{- include "model-service.containerPorts" $w | indent 6 }}
    {{- if or $env $spec.secretEnv }}
    env:
      {{- include "model-service.env" (dict "env" $env "secretEnv" $spec.secretEnv) | indent 6 }}
    {{- end }}
    startupProbe: {{ toJson (merge (dict "periodSeconds" 10 "timeoutSeconds" 5 "failureThreshold" (max 1 (div (int ($tf.startupSeconds | default 600)) 10))) $ready) }}
    readinessProbe: {{ toJson (merge (dict "periodSeconds" 5 "timeoutSeconds" 5 "failureThreshold" 2) $ready) }}
    # Liveness: the gRPC port accepts connections while the process is alive.
    livenessProbe:
      tcpSocket:
        port: grpc
      periodSeconds: 10
      timeoutSeconds: 5
      failureThreshold: 6
    {{- include "model-service.serverTail" (dict "context" $ctx "workload" $w) | nindent 4 }}
    volumeMounts:
      - name: tmp
        mountPath: /tmp
      - name: server-config
        mountPath: /etc/model-service
        readOnly: true
volumes:
  - name: tmp
    emptyDir: {}
  - name: server-config
    configMap:
      name: {{ $w.name }}
{{- end -}}

{{/* A custom model server image. Usage: include "model-service.containers.custom" (dict "context" $ "workload" $w) */}}
{{- define "model-service.containers.custom" -}}
{{- $ctx := .context -}}
{{- $w := .workload -}}
{{- $spec := index $ctx.Values.models $w.component -}}
{{- $custom := $spec.custom -}}
{{- $startup := int ($custom.startupSeconds | default 300) -}}
{{- $health := dict "httpGet" (dict "path" ($custom.healthPath | default "/healthz") "port" (int $w.httpPort)) -}}
{{- $ready := dict "httpGet" (dict "path" ($custom.readyPath | default ($custom.healthPath | default "/healthz")) "port" (int $w.httpPort)) -}}
{{- $env := merge (deepCopy ($spec.env | default dict)) (include "model-service.concurrencyEnv" (dict "cpu" $w.resources.limits.cpu) | fromYaml) -}}
terminationGracePeriodSeconds: 60
initContainers: []
containers:
  - name: server
    image: {{ $spec.image | quote }}
    imagePullPolicy: IfNotPresent
    {{- with $custom.command }}
    command: {{ toJson . }}
    {{- end }}
    {{- with $custom.args }}
    args: {{ toJson . }}
    {{- end }}
    ports:
      {{- include "model-service.containerPorts" $w | indent 6 }}
    env:
      {{- include "model-service.env" (dict "env" $env "secretEnv" $spec.secretEnv) | indent 6 }}
    startupProbe: {{ toJson (merge (dict "periodSeconds" 5 "timeoutSeconds" 2 "failureThreshold" (max 1 (div $startup 5))) $health) }}
    readinessProbe: {{ toJson (merge (dict "periodSeconds" 5 "timeoutSeconds" 2 "failureThreshold" 2) $ready) }}
    livenessProbe: {{ toJson (merge (dict "periodSeconds" 10 "timeoutSeconds" 5 "failureThreshold" 6) $health) }}
    {{- include "model-service.serverTail" (dict "context" $ctx "workload" $w) | nindent 4 }}
    volumeMounts:
      - name: tmp
        mountPath: /tmp
volumes:
  - name: tmp
    emptyDir: {}
{{- end -}}

{{/* TF-Serving --per_process_gpu_memory_fraction derived from a shared GPU ("" when not derivable).
Time-slicing isolates no memory, so each of the timesliceReplicas pods gets its share; HAMi with
memoryMiB already caps what the process sees, so only a cores-only share is derived. Usage: include "model-service.gpuMemoryFraction" (dict "context" $ "workload" $w) */}}
{{- define "model-service.gpuMemoryFraction" -}}
{{- $gpu := (index .context.Values.models .workload.component).gpu | default dict -}}
{{- $cluster := .context.Values.environment.cluster | default dict -}}
{{- if and .workload.gpu.count (eq .workload.gpu.mode "timeslice") $cluster.timesliceReplicas -}}
{{- /* Rounded down so the shares never add up to more than the card. */ -}}
{{- printf "%.3f" (divf (floor (divf 1000.0 (int $cluster.timesliceReplicas))) 1000.0) -}}
{{- else if and .workload.gpu.count (eq .workload.gpu.mode "hami") $gpu.coresPercent (not $gpu.memoryMiB) -}}
{{- printf "%.2f" (divf (int $gpu.coresPercent) 100.0) -}}
{{- end -}}
{{- end -}}
