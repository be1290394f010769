{{- define "ncm-migration.fullname" -}}
{{- printf "%s-ncm-migration" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ncm-migration.labels" -}}
app.kubernetes.io/name: ncm-migration
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{- define "ncm-migration.serviceAccountName" -}}
{{- default (include "ncm-migration.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "ncm-migration.secretName" -}}
{{- default (include "ncm-migration.fullname" .) .Values.existingSecret -}}
{{- end -}}

{{/* Hook annotations: Helm's, or Argo CD's PreSync hook with its sync wave. The
     resources the Job needs are hooks too, with a lower weight (or wave), so that they
     exist before it on a first install. */}}
{{- define "ncm-migration.hook" -}}
{{- if .root.Values.argocd.enabled }}
argocd.argoproj.io/hook: PreSync
argocd.argoproj.io/sync-wave: {{ sub (int .root.Values.argocd.syncWave) .before | quote }}
argocd.argoproj.io/hook-delete-policy: BeforeHookCreation
{{- else }}
helm.sh/hook: pre-install,pre-upgrade
helm.sh/hook-weight: {{ sub (int .root.Values.hook.weight) .before | quote }}
helm.sh/hook-delete-policy: {{ .root.Values.hook.deletePolicy }}
{{- end }}
{{- end -}}
