variable "name" {
  type        = string
  description = "Prefix of every resource name (queue, cluster, roles, log group, parameters)."
  default     = "switchboard"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name: 2-31 characters, lower-case letters, digits and '-', starting with a letter."
  }
}

variable "aws_region" {
  type        = string
  description = "AWS region of the queue and the worker fleet; pick the one nearest your callers and your AI model."
  default     = "us-east-1"
}

variable "edge_public_url" {
  type        = string
  description = "The edge Worker's public https URL (its workers.dev URL or custom domain). Workers dial it; Twilio signs it."

  validation {
    condition     = can(regex("^https://[^/]+$", var.edge_public_url))
    error_message = "edge_public_url: an https URL without a path or trailing slash, e.g. https://switchboard-edge.example.workers.dev."
  }
}

variable "worker_image" {
  type        = string
  description = "Media-worker image from another registry (built from media-worker/Dockerfile), pinned: 'repo@sha256:<digest>' or 'repo:<tag>' with a tag that is never moved (not 'latest'). Empty: the module's ECR repository at worker_image_tag."
  default     = ""

  validation {
    condition = var.worker_image == "" || (
      can(regex("^[^\\s@]+@sha256:[0-9a-f]{64}$", var.worker_image)) ||
      (can(regex("^[^\\s@]+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.worker_image)) && !endswith(var.worker_image, ":latest"))
    )
    error_message = "worker_image: 'repository@sha256:<64 hex>' or 'repository:<tag>' with a tag other than 'latest'."
  }
}

variable "worker_image_tag" {
  type        = string
  description = "The image the tasks run from the module's ECR repository (whose tags are immutable): the tag you pushed (e.g. the git commit) or its digest 'sha256:<64 hex>'. Never 'latest'. Ignored when worker_image is set."
  default     = ""

  validation {
    condition = var.worker_image != "" || can(regex("^sha256:[0-9a-f]{64}$", var.worker_image_tag)) || (
      can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.worker_image_tag)) && var.worker_image_tag != "latest"
    )
    error_message = "worker_image_tag: the tag you pushed (not 'latest') or a digest 'sha256:<64 hex>'; required unless worker_image is set."
  }
}

variable "handler" {
  type        = string
  description = "The worker's HANDLER: 'echo', 'tone', or the path of your handler module inside the image."
  default     = "echo"
}

variable "handler_secrets" {
  type        = map(string)
  description = "Secrets your handler reads from its environment (e.g. a model API key): stored as SSM SecureString parameters and injected into the task, never in the task definition."
  default     = {}
  sensitive   = true
}

variable "cpu_architecture" {
  type        = string
  description = "Fargate CPU architecture; the image must be built for it (docker build --platform)."
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture: X86_64 or ARM64."
  }
}

variable "task_cpu" {
  type        = number
  description = "Fargate task CPU units (1024 = 1 vCPU)."
  default     = 1024
}

variable "task_memory_mib" {
  type        = number
  description = "Fargate task memory in MiB; must be a valid pairing with task_cpu."
  default     = 2048
}

variable "max_sessions_per_task" {
  type        = number
  description = "MAX_SESSIONS of each worker: concurrent calls one task takes. A two-way Opus echo session costs about 1% of a vCPU (npm run bench: 0.7-1.2% at 10-80 calls); the handler's own work comes on top, so size for it."
  default     = 20

  validation {
    condition     = var.max_sessions_per_task >= 1 && floor(var.max_sessions_per_task) == var.max_sessions_per_task
    error_message = "max_sessions_per_task: a whole number >= 1."
  }
}

variable "min_tasks" {
  type        = number
  description = "Fewest workers kept running. At least 1: a cold Fargate task takes longer to start than a caller waits (CLAIM_TIMEOUT_MS)."
  default     = 1

  validation {
    condition     = var.min_tasks >= 0
    error_message = "min_tasks: >= 0."
  }
}

variable "max_tasks" {
  type        = number
  description = "Most workers autoscaling may run."
  default     = 10

  validation {
    condition     = var.max_tasks >= var.min_tasks && var.max_tasks >= 1
    error_message = "max_tasks: >= 1 and >= min_tasks."
  }
}

variable "target_utilization_percent" {
  type        = number
  description = "Fleet utilisation (busy slots / MAX_SESSIONS, averaged over the tasks) that target tracking holds; the headroom above it absorbs bursts while new tasks start."
  default     = 60

  validation {
    condition     = var.target_utilization_percent > 0 && var.target_utilization_percent < 100
    error_message = "target_utilization_percent: between 0 and 100."
  }
}

variable "scale_out_cooldown_s" {
  type        = number
  description = "Seconds after a scale-out before another may start."
  default     = 60
}

variable "scale_in_cooldown_s" {
  type        = number
  description = "Seconds after a scale-in before another may start: slow, so a lull between call bursts does not empty the fleet."
  default     = 600
}

variable "oldest_job_age_alarm_s" {
  type        = number
  description = "Age in seconds of the oldest unclaimed job that means every worker is full: adds tasks at once."
  default     = 5
}

variable "network_mode" {
  type        = string
  description = "'public': tasks in public subnets with a public IP, WebRTC UDP open on the RTC port range (direct media, TURN only as fallback). 'relay_only': no public IP, no inbound port, every WebRTC call through TURN (subnets need a NAT gateway)."
  default     = "public"

  validation {
    condition     = contains(["public", "relay_only"], var.network_mode)
    error_message = "network_mode: public or relay_only."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the tasks; null: the account's default VPC."
  default     = null
}

variable "subnet_ids" {
  type        = list(string)
  description = "Subnets of the tasks (public subnets for network_mode 'public'); empty: the default VPC's subnets."
  default     = []
}

variable "rtc_udp_port" {
  type        = number
  nullable    = true
  description = "The worker's one WebRTC UDP port (RTC_UDP_PORT): every call of a task shares it, and the security group opens only it. null: a socket per call in rtc_port_min..rtc_port_max instead."
  default     = 50000

  validation {
    condition     = coalesce(var.rtc_udp_port, 1024) >= 1024 && coalesce(var.rtc_udp_port, 1024) <= 65535
    error_message = "rtc_udp_port: inside 1024-65535, or null for the port range."
  }
}

variable "rtc_port_min" {
  type        = number
  description = "First UDP port of the worker's WebRTC range (RTC_PORT_MIN), used only when rtc_udp_port is null."
  default     = 40000
}

variable "rtc_port_max" {
  type        = number
  description = "Last UDP port of the worker's WebRTC range (RTC_PORT_MAX), used only when rtc_udp_port is null; one port per session is enough."
  default     = 40199

  validation {
    condition     = var.rtc_port_max > var.rtc_port_min && var.rtc_port_min >= 1024 && var.rtc_port_max <= 65535
    error_message = "rtc_port_max: above rtc_port_min, inside 1024-65535."
  }
}

variable "rtc_ingress_cidrs" {
  type        = list(string)
  description = "Who may send WebRTC UDP to the workers (network_mode 'public'): browsers and TURN relays anywhere by default."
  default     = ["0.0.0.0/0"]
}

variable "public_ip_lookup_url" {
  type        = string
  description = "PUBLIC_IP_LOOKUP_URL of the worker in network_mode 'public': ECS task metadata carries no public IP, so the worker asks this URL (its answer is the task's 1:1 NAT address)."
  default     = "https://checkip.amazonaws.com"
}

variable "drain_timeout_ms" {
  type        = number
  description = "DRAIN_TIMEOUT_MS: on SIGTERM a worker lets calls run this long, then ends them. Kept under stop_timeout_s so the worker exits before ECS kills it."
  default     = 100000
}

variable "stop_timeout_s" {
  type        = number
  description = "ECS stopTimeout: seconds from SIGTERM to SIGKILL (Fargate allows up to 120)."
  default     = 120

  validation {
    condition     = var.stop_timeout_s >= 2 && var.stop_timeout_s <= 120 && var.stop_timeout_s * 1000 > var.drain_timeout_ms
    error_message = "stop_timeout_s: 2-120, and longer than drain_timeout_ms."
  }
}

variable "turn_provider" {
  type        = string
  description = "TURN_PROVIDER of the edge: an ordered, comma-separated failover list of 'cloudflare' (this module creates the TURN key), 'coturn' and 'twilio', or 'none'."
  default     = "cloudflare"

  validation {
    condition     = can(regex("^(none|(cloudflare|coturn|twilio)(,(cloudflare|coturn|twilio)){0,2})$", var.turn_provider))
    error_message = "turn_provider: 'none', or up to three of cloudflare, coturn, twilio separated by commas (e.g. \"cloudflare,twilio\")."
  }
}

variable "cloudflare_account_id" {
  type        = string
  description = "Cloudflare account that owns the edge Worker and, with turn_provider 'cloudflare', the TURN key."
  default     = ""
}

variable "coturn_urls" {
  type        = list(string)
  description = "TURN_URLS of a self-hosted coturn (turn_provider 'coturn')."
  default     = []
}

variable "coturn_secret" {
  type        = string
  description = "coturn's static-auth-secret (turn_provider 'coturn')."
  default     = ""
  sensitive   = true
}

variable "twilio_account_sid" {
  type        = string
  description = "Twilio account SID (phone calls, Twilio TURN). Empty: no phone calls."
  default     = ""
}

variable "twilio_auth_token" {
  type        = string
  description = "Twilio auth token: the edge checks every webhook's signature with it."
  default     = ""
  sensitive   = true
}

variable "twilio_from" {
  type        = string
  description = "Default caller id of outbound calls (a Twilio number in E.164)."
  default     = ""
}

variable "telephony_provider" {
  type        = string
  description = "TELEPHONY_PROVIDER of the edge: who places outbound calls when POST /v1/calls names no provider."
  default     = "twilio"
  validation {
    condition     = contains(["twilio", "telnyx", "plivo"], var.telephony_provider)
    error_message = "telephony_provider: twilio, telnyx or plivo."
  }
}

variable "telnyx_public_key" {
  type        = string
  description = "Telnyx's webhook signing public key (base64 of the 32-byte Ed25519 key, from the Telnyx portal). Empty: no Telnyx calls."
  default     = ""
}

variable "telnyx_api_key" {
  type        = string
  description = "Telnyx API v2 key (outbound calls through the TeXML Calls API)."
  default     = ""
  sensitive   = true
}

variable "telnyx_app_id" {
  type        = string
  description = "The TeXML application that places outbound calls. Empty: no outbound Telnyx calls."
  default     = ""
}

variable "telnyx_from" {
  type        = string
  description = "Default caller id of outbound Telnyx calls (E.164)."
  default     = ""
}

variable "plivo_auth_id" {
  type        = string
  description = "Plivo auth ID. Empty: no Plivo calls."
  default     = ""
}

variable "plivo_auth_token" {
  type        = string
  description = "Plivo auth token: the edge checks every webhook's V3 signature with it and places calls with it."
  default     = ""
  sensitive   = true
}

variable "plivo_from" {
  type        = string
  description = "Default caller id of outbound Plivo calls (digits, no +)."
  default     = ""
}

variable "api_keys" {
  type        = list(string)
  description = "Server API keys the edge accepts (AUTH_MODE token). Empty: one is generated (output api_key)."
  default     = []
  sensitive   = true
}

variable "log_retention_days" {
  type        = number
  description = "Days CloudWatch keeps the workers' logs."
  default     = 14
}

variable "metrics_namespace" {
  type        = string
  description = "CloudWatch namespace of the utilisation metric the workers publish (embedded metric format in their logs)."
  default     = "Switchboard"
}

variable "alarm_email" {
  type        = string
  description = "Email address the alarm topic (jobs in the dead-letter queue) notifies; AWS mails it a confirmation link first. Empty: no subscription (subscribe to output alarm_topic_arn yourself)."
  default     = ""

  validation {
    condition     = var.alarm_email == "" || can(regex("^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$", var.alarm_email))
    error_message = "alarm_email: an email address, or empty for no subscription."
  }
}

variable "edge_key_active" {
  type        = string
  description = "Which of the edge's two access keys ('a' or 'b') edge_secrets carries. Rotate by switching to the other key, pushing edge_secrets, then replacing the old one (README, 'Rotating the edge's AWS key')."
  default     = "a"

  validation {
    condition     = contains(["a", "b"], var.edge_key_active)
    error_message = "edge_key_active: a or b."
  }
}

variable "max_sessions_per_client" {
  type        = number
  description = "MAX_SESSIONS_PER_CLIENT of the edge: live WebRTC sessions one client (token subject) may hold; the next gets 429."
  default     = 5

  validation {
    condition     = var.max_sessions_per_client >= 1 && var.max_sessions_per_client <= 10000 && floor(var.max_sessions_per_client) == var.max_sessions_per_client
    error_message = "max_sessions_per_client: a whole number from 1 to 10000."
  }
}

variable "cors_origins" {
  type        = string
  description = "CORS_ORIGINS of the edge: comma-separated web origins whose pages may call /v1/ with the browser SDK (e.g. \"https://app.example.com\"), or \"*\" for any (the API takes bearer tokens, not cookies)."
  default     = "*"

  validation {
    condition     = can(regex("^(\\*|https?://[^/,\\s]+(,https?://[^/,\\s]+)*)$", var.cors_origins))
    error_message = "cors_origins: origins such as https://app.example.com (scheme and host, no path), comma-separated, or *."
  }
}

variable "recordings_enabled" {
  type        = bool
  description = "Store call recordings in S3: the bucket, its key and policies, the task role's upload grant and the worker's RECORDING_BUCKET. False: none of these is created."
  default     = true
}

variable "recordings_bucket_name" {
  type        = string
  description = "Name of the recordings bucket. Empty: '<name>-recordings-<account id>-<region>' (must then fit S3's 63 characters; set a name if it does not)."
  default     = ""

  validation {
    # No dots: a dotted name breaks TLS on virtual-hosted-style URLs.
    condition     = var.recordings_bucket_name == "" || can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.recordings_bucket_name))
    error_message = "recordings_bucket_name: 3-63 lower-case letters, digits and '-', starting and ending with a letter or digit; or empty for the default."
  }
}

variable "recordings_kms" {
  type        = bool
  description = "Encrypt recordings with a dedicated customer-managed KMS key (rotated yearly; its use is logged in CloudTrail and can be revoked). False: S3-managed keys (SSE-S3, AES256)."
  default     = true
}

variable "recordings_versioning" {
  type        = bool
  description = "Turn on versioning of the recordings bucket (needed for replication or Object Lock). Off: each recording is written once under its own key and the workers cannot delete, so versions would only keep data past its retention."
  default     = false
}

variable "recording_retention_days" {
  type        = number
  description = "Days a recording is kept before S3 deletes it."
  default     = 90

  validation {
    condition     = var.recording_retention_days >= 1 && floor(var.recording_retention_days) == var.recording_retention_days
    error_message = "recording_retention_days: a whole number of days >= 1."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every AWS resource."
  default     = {}
}
