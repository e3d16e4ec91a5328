{{/* Labels shared by every object of the chart. */}}
{{- define "matih-ai.labels" -}}
app.kubernetes.io/name: ai-service
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: matih
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}

{{/* The pods' selector: stable across upgrades, so no version in it. */}}
{{- define "matih-ai.selectorLabels" -}}
app.kubernetes.io/name: ai-service
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
