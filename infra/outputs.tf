output "queue_url" {
  description = "The session job queue (SQS_QUEUE_URL of edge and workers)."
  value       = aws_sqs_queue.jobs.url
}

output "dead_letter_queue_url" {
  description = "Jobs no worker could claim after 10 receives."
  value       = aws_sqs_queue.jobs_dlq.url
}

output "alarm_topic_arn" {
  description = "SNS topic the dead-letter alarm notifies (alarm_email subscribes to it; add other subscribers here)."
  value       = aws_sns_topic.alarms.arn
}

output "edge_access_key_ids" {
  description = "IDs of the edge's two access keys (a, b); edge_key_active picks the one edge_secrets carries."
  value       = { for k, key in aws_iam_access_key.edge : k => key.id }
}

output "ecr_repository_url" {
  description = "Push the media-worker image here under a new tag per build (tags are immutable), then set worker_image_tag to it."
  value       = aws_ecr_repository.worker.repository_url
}

output "worker_image" {
  description = "The image the worker tasks run."
  value       = local.image
}

output "cluster_name" {
  description = "ECS cluster of the media workers."
  value       = aws_ecs_cluster.media.name
}

output "service_name" {
  description = "ECS service of the media workers (autoscaled)."
  value       = aws_ecs_service.worker.name
}

output "log_group_name" {
  description = "CloudWatch log group of the workers (aws logs tail --follow)."
  value       = aws_cloudwatch_log_group.worker.name
}

output "recordings_bucket_name" {
  description = "S3 bucket of the call recordings (under recordings/<sessionId>/); null without recordings_enabled."
  value       = one(aws_s3_bucket.recordings[*].bucket)
}

output "recordings_bucket_arn" {
  description = "ARN of the recordings bucket, for granting a reader s3:GetObject on <arn>/recordings/*; null without recordings_enabled."
  value       = one(aws_s3_bucket.recordings[*].arn)
}

output "recordings_kms_key_arn" {
  description = "KMS key the recordings are encrypted with (a reader also needs kms:Decrypt on it); null without recordings_kms."
  value       = one(aws_kms_key.recordings[*].arn)
}

output "twilio_voice_webhook_url" {
  description = "Set as the Twilio number's voice webhook (HTTP POST)."
  value       = "${var.edge_public_url}/twilio/voice"
}

output "twilio_status_callback_url" {
  description = "Set as the Twilio number's call status callback (HTTP POST)."
  value       = "${var.edge_public_url}/twilio/status"
}

output "telnyx_voice_webhook_url" {
  description = "Set as the TeXML application's voice URL (HTTP POST)."
  value       = "${var.edge_public_url}/telnyx/voice"
}

output "telnyx_status_callback_url" {
  description = "Set as the TeXML application's status callback (HTTP POST)."
  value       = "${var.edge_public_url}/telnyx/status"
}

output "plivo_answer_url" {
  description = "Set as the Plivo application's answer URL (POST)."
  value       = "${var.edge_public_url}/plivo/voice"
}

output "plivo_hangup_url" {
  description = "Set as the Plivo application's hangup URL (POST)."
  value       = "${var.edge_public_url}/plivo/status"
}

output "edge_secrets" {
  description = "The edge's secrets: terraform output -json edge_secrets | npx wrangler secret bulk --env production"
  value       = local.edge_secrets
  sensitive   = true
}

output "api_key" {
  description = "A server API key of the edge (the first of API_KEYS): terraform output -raw api_key"
  value       = local.api_keys[0]
  sensitive   = true
}
