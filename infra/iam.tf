# Least privilege. Three principals:
# - the edge (a Cloudflare Worker, outside AWS: an IAM user's access keys) may only send jobs;
# - the task role (the worker's own code) may only receive, delete and re-time jobs, and set
#   and read its own task's scale-in protection, on this cluster's tasks only (through the ECS
#   agent endpoint, which signs with this role); with recordings_enabled it may also upload call
#   recordings, and nothing else in their bucket (recordings.tf);
# - the execution role (the ECS agent starting the task) may pull the image, write the log
#   stream and read the handler's secrets.
# Publishing the utilisation metric needs no permission: it is embedded metric format in the
# logs, which CloudWatch Logs turns into metrics.

# ---- edge -------------------------------------------------------------------------------------
resource "aws_iam_user" "edge" {
  name = "${var.name}-edge"
}

data "aws_iam_policy_document" "edge" {
  statement {
    sid       = "SendSessionJobs"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.jobs.arn]
  }
}

resource "aws_iam_user_policy" "edge" {
  name   = "${var.name}-edge-send-jobs"
  user   = aws_iam_user.edge.name
  policy = data.aws_iam_policy_document.edge.json
}

# Two keys, the most an IAM user may hold, so one can be replaced while the edge runs on the
# other: var.edge_key_active picks the one edge_secrets carries (README, "Rotating the edge's AWS
# key"). Replacing a key destroys it before creating the new one, which the two-key limit needs.
resource "aws_iam_access_key" "edge" {
  for_each = toset(["a", "b"])

  user = aws_iam_user.edge.name
}

# The single key of earlier versions becomes key "a" (still the one in use), not a new key.
moved {
  from = aws_iam_access_key.edge
  to   = aws_iam_access_key.edge["a"]
}

# ---- roles assumed by ECS tasks ----------------------------------------------------------------
data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    # Only ECS acting for this account may assume the roles (confused-deputy guard).
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:ecs:${var.aws_region}:${local.account_id}:*"]
    }
  }
}

# ---- task role: the worker ---------------------------------------------------------------------
resource "aws_iam_role" "task" {
  name               = "${var.name}-media-worker-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "task" {
  statement {
    sid       = "ClaimSessionJobs"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"]
    resources = [aws_sqs_queue.jobs.arn]
  }

  # The agent endpoint calls these for the task itself; scoped to this cluster's tasks, so the
  # role cannot touch tasks of any other cluster in the account.
  statement {
    sid       = "ProtectOwnTaskFromScaleIn"
    actions   = ["ecs:UpdateTaskProtection", "ecs:GetTaskProtection"]
    resources = ["arn:${local.partition}:ecs:${var.aws_region}:${local.account_id}:task/${local.cluster_name}/*"]
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "${var.name}-media-worker-task"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

# ---- execution role: the ECS agent ------------------------------------------------------------
resource "aws_iam_role" "execution" {
  name               = "${var.name}-media-worker-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "execution" {
  # GetAuthorizationToken has no resource-level permissions.
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid       = "PullWorkerImage"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
    resources = [aws_ecr_repository.worker.arn]
  }

  statement {
    sid       = "WriteWorkerLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.worker.arn}:*"]
  }

  dynamic "statement" {
    for_each = length(local.handler_secret_names) > 0 ? [1] : []

    content {
      sid       = "ReadHandlerSecrets"
      actions   = ["ssm:GetParameters"]
      resources = [for p in aws_ssm_parameter.handler_secret : p.arn]
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "${var.name}-media-worker-execution"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}
