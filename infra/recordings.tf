# Call recordings. Each worker streams a call's recordings (Ogg Opus) to
# s3://<bucket>/recordings/<sessionId>/ with multipart uploads. Everything here exists only with
# recordings_enabled (count = local.recordings ? 1 : 0 throughout), so a deploy without
# recording creates no bucket, key or policy, and the worker gets an empty RECORDING_BUCKET.
#
# Who may do what:
# - the task role may only create objects under recordings/ (s3:PutObject also covers creating,
#   uploading parts of and completing a multipart upload) and abort its own uploads; it cannot
#   read, list or delete. With KMS it may use the bucket's key for exactly that, through S3 only.
# - the edge and the execution role get nothing. Whoever reads recordings (an operator, a
#   back-office service) is granted s3:GetObject (and kms:Decrypt on the key) outside this module.
#
# Lifecycle: a recording expires after recording_retention_days. No transition to a cheaper
# class: a recording is small (about 0.25 MB a minute at 32 kbit/s, so a few MB a call) and kept
# 90 days by default. Standard-IA at day 30 saves ~$0.0105/GB-month for the 60 days left, i.e.
# ~$0.00002 for a 1 MB recording, while the transition request costs $0.00001 per object, objects
# under 128 KB are billed as 128 KB there (and by default not transitioned at all), and every
# listen adds a retrieval fee. Break-even at best, a loss for short calls; with a retention of a
# year or more a size-filtered transition rule would pay off.
#
# Versioning is off by default (recordings_versioning): every recording is written once under
# its own key, and the workers cannot overwrite a finished one into oblivion or delete it, so
# versions would mostly keep audio past its retention. Turn it on for replication or Object
# Lock; noncurrent versions then expire 7 days after being replaced or deleted.

locals {
  recordings     = var.recordings_enabled
  recordings_kms = var.recordings_enabled && var.recordings_kms

  # The one key prefix the workers write and the lifecycle rule expires (RECORDING_PREFIX).
  recording_prefix = "recordings/"

  # Bucket names are global: the account and region keep two deployments apart.
  recordings_bucket = var.recordings_bucket_name != "" ? var.recordings_bucket_name : "${var.name}-recordings-${local.account_id}-${var.aws_region}"
}

# ---- encryption key ---------------------------------------------------------------------------
# The default key policy: the account administers the key and IAM policies grant its use (the
# task role's below). A dedicated key means recordings can be made unreadable by disabling it,
# and every use of it is in CloudTrail.
resource "aws_kms_key" "recordings" {
  count = local.recordings_kms ? 1 : 0

  description             = "${var.name}: call recordings in S3"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_kms_alias" "recordings" {
  count = local.recordings_kms ? 1 : 0

  name          = "alias/${var.name}-recordings"
  target_key_id = aws_kms_key.recordings[0].key_id
}

# ---- bucket -----------------------------------------------------------------------------------
resource "aws_s3_bucket" "recordings" {
  count = local.recordings ? 1 : 0

  bucket = local.recordings_bucket
  # A destroy must not silently take the recordings with it: empty the bucket first.
  force_destroy = false

  lifecycle {
    precondition {
      condition     = length(local.recordings_bucket) <= 63
      error_message = "The default recordings bucket name is longer than S3's 63 characters: set recordings_bucket_name."
    }
  }
}

resource "aws_s3_bucket_public_access_block" "recordings" {
  count = local.recordings ? 1 : 0

  bucket                  = aws_s3_bucket.recordings[0].id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}

# ACLs off: the bucket owner owns every object, whoever uploaded it.
resource "aws_s3_bucket_ownership_controls" "recordings" {
  count = local.recordings ? 1 : 0

  bucket = aws_s3_bucket.recordings[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# Default encryption, so the worker's uploads carry no encryption headers. The bucket key cuts
# KMS requests (and their cost) to about one per upload session instead of one per part.
resource "aws_s3_bucket_server_side_encryption_configuration" "recordings" {
  count = local.recordings ? 1 : 0

  bucket = aws_s3_bucket.recordings[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = local.recordings_kms ? "aws:kms" : "AES256"
      kms_master_key_id = local.recordings_kms ? aws_kms_key.recordings[0].arn : null
    }
    bucket_key_enabled = local.recordings_kms ? true : null
  }
}

resource "aws_s3_bucket_versioning" "recordings" {
  count = local.recordings && var.recordings_versioning ? 1 : 0

  bucket = aws_s3_bucket.recordings[0].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "recordings" {
  count = local.recordings ? 1 : 0

  bucket = aws_s3_bucket.recordings[0].id

  rule {
    id     = "expire-recordings"
    status = "Enabled"

    filter {
      prefix = local.recording_prefix
    }

    expiration {
      days = var.recording_retention_days
    }

    # Only with recordings_versioning: what an overwrite or a delete left behind.
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
  }

  # A worker killed mid-call leaves its upload's parts behind, invisible but billed.
  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  # Versioning must be settled before rules about noncurrent versions apply.
  depends_on = [aws_s3_bucket_versioning.recordings]
}

# TLS only: any request over plain HTTP is refused, whoever makes it.
data "aws_iam_policy_document" "recordings_bucket" {
  count = local.recordings ? 1 : 0

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.recordings[0].arn, "${aws_s3_bucket.recordings[0].arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "recordings" {
  count = local.recordings ? 1 : 0

  bucket = aws_s3_bucket.recordings[0].id
  policy = data.aws_iam_policy_document.recordings_bucket[0].json

  # S3 refuses concurrent changes to a bucket's access settings.
  depends_on = [aws_s3_bucket_public_access_block.recordings]
}

# ---- task role: upload only ---------------------------------------------------------------------
data "aws_iam_policy_document" "task_recordings" {
  count = local.recordings ? 1 : 0

  statement {
    sid       = "UploadRecordings"
    actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
    resources = ["${aws_s3_bucket.recordings[0].arn}/${local.recording_prefix}*"]
  }

  # S3 generates a data key for each upload (GenerateDataKey) and decrypts it again for each part
  # and the completion of a multipart upload (Decrypt); only through S3, not directly.
  dynamic "statement" {
    for_each = local.recordings_kms ? [1] : []

    content {
      sid       = "EncryptRecordings"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [aws_kms_key.recordings[0].arn]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${var.aws_region}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role_policy" "task_recordings" {
  count = local.recordings ? 1 : 0

  name   = "${var.name}-media-worker-recordings"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task_recordings[0].json
}
