# The media-worker fleet and its job queue on AWS; the Cloudflare TURN key (cloudflare.tf).
# The edge Worker itself is deployed by `wrangler deploy` (see README, "Deploying"): wrangler
# bundles the code and applies the Durable Object migration with the upload, which the Terraform
# provider can only do from a pre-built bundle. Terraform hands the edge its settings through
# the `edge_secrets` output (`wrangler secret bulk`).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

data "aws_vpc" "default" {
  count   = var.vpc_id == null ? 1 : 0
  default = true
}

data "aws_subnets" "default" {
  count = length(var.subnet_ids) == 0 ? 1 : 0

  filter {
    name   = "vpc-id"
    values = [local.vpc_id]
  }

  filter {
    name   = "default-for-az"
    values = ["true"]
  }
}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  vpc_id     = var.vpc_id != null ? var.vpc_id : data.aws_vpc.default[0].id
  subnet_ids = length(var.subnet_ids) > 0 ? var.subnet_ids : data.aws_subnets.default[0].ids
  public     = var.network_mode == "public"

  cluster_name   = "${var.name}-media"
  service_name   = "${var.name}-media-worker"
  container_name = "media-worker"

  # Pinned images only (variables.tf refuses 'latest'): a task started by autoscaling next week
  # runs the same bytes as the one started today, and a rollback means a known earlier image.
  ecr_image = startswith(var.worker_image_tag, "sha256:") ? "${aws_ecr_repository.worker.repository_url}@${var.worker_image_tag}" : "${aws_ecr_repository.worker.repository_url}:${var.worker_image_tag}"
  image     = var.worker_image != "" ? var.worker_image : local.ecr_image

  # Shared by the task definition's health check and the worker's WORKER_HTTP_PORT; the
  # check runs inside the container, so the endpoint stays on 127.0.0.1.
  health_port = 9090

  handler_secret_names = toset(nonsensitive(keys(var.handler_secrets)))

  # WebRTC's UDP: one port per task (every call on one socket), or a port per call in a range.
  rtc_single_port = var.rtc_udp_port != null
  rtc_from_port   = local.rtc_single_port ? var.rtc_udp_port : var.rtc_port_min
  rtc_to_port     = local.rtc_single_port ? var.rtc_udp_port : var.rtc_port_max

  # Variables the worker reads (media-worker/src/config.ts); an empty value means unset.
  worker_environment = {
    PUBLIC_BASE_URL         = var.edge_public_url
    SQS_QUEUE_URL           = aws_sqs_queue.jobs.url
    AWS_REGION              = var.aws_region
    HANDLER                 = var.handler
    MAX_SESSIONS            = tostring(var.max_sessions_per_task)
    DRAIN_TIMEOUT_MS        = tostring(var.drain_timeout_ms)
    RTC_UDP_PORT            = local.rtc_single_port ? tostring(var.rtc_udp_port) : ""
    RTC_PORT_MIN            = local.rtc_single_port ? "" : tostring(var.rtc_port_min)
    RTC_PORT_MAX            = local.rtc_single_port ? "" : tostring(var.rtc_port_max)
    ICE_POLICY              = local.public ? "all" : "relay"
    WORKER_HTTP_HOST        = "127.0.0.1"
    WORKER_HTTP_PORT        = tostring(local.health_port)
    METRICS_NAMESPACE       = var.metrics_namespace
    METRICS_SERVICE         = local.service_name
    TASK_PROTECTION_MINUTES = "60"
    PUBLIC_IP_LOOKUP_URL    = local.public ? var.public_ip_lookup_url : ""
  }

  # Where the worker streams call recordings (recordings.tf); empty without recordings_enabled.
  # Kept apart from worker_environment until media-worker/src/config.ts declares them (the
  # worker-task test holds worker_environment to the settings the worker knows); the task
  # definition passes both.
  recording_environment = {
    RECORDING_BUCKET = local.recordings ? aws_s3_bucket.recordings[0].bucket : ""
    RECORDING_PREFIX = local.recordings ? local.recording_prefix : ""
  }
}

resource "aws_ecr_repository" "worker" {
  name = "${var.name}/media-worker"
  # A pushed tag can never be moved to other bytes: the tag in the task definition is the image.
  image_tag_mutability = "IMMUTABLE"
  force_delete         = false

  image_scanning_configuration {
    scan_on_push = true
  }
}

resource "aws_ecr_lifecycle_policy" "worker" {
  repository = aws_ecr_repository.worker.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the 20 newest images"
      selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 20 }
      action       = { type = "expire" }
    }]
  })
}

resource "aws_cloudwatch_log_group" "worker" {
  name              = "/ecs/${local.service_name}"
  retention_in_days = var.log_retention_days
}

resource "aws_ssm_parameter" "handler_secret" {
  for_each = local.handler_secret_names

  name  = "/${var.name}/media-worker/${each.key}"
  type  = "SecureString"
  value = var.handler_secrets[each.key]
}
