# The session job queue. A job is a claim ticket: a worker that receives it dials the session's
# Durable Object, and the DO accepts exactly one claim. The message is deleted as soon as the
# claim is decided (accepted, refused as a duplicate, or expired), normally within a second.
#
# visibility_timeout_seconds = 5: if a worker dies between receiving a job and deciding it, the job
#   must reach another worker while the caller is still waiting (CLAIM_TIMEOUT_MS = 10 s for a
#   browser): 5 s leaves a second delivery inside that window. A claim slower than 5 s only
#   causes a duplicate delivery, which the DO refuses (409) harmlessly.
# message_retention_seconds = 120: a job is worthless once its caller has given up (the job's own
#   expiry: 10 s browser, 30 s phone hold); SQS's minimum is 60 s, and 120 s covers the phone hold
#   plus a takeover's re-sends. After an outage, stale jobs vanish instead of a backlog of dead
#   calls being claimed by the first workers to start.
# maxReceiveCount = 10: a worker that cannot reach the edge hands the job back after 1 s; ten
#   failed receives mean a job no worker can claim (a broken edge or a bad message), which
#   goes to the dead-letter queue for inspection instead of cycling until it expires.
resource "aws_sqs_queue" "jobs" {
  name                       = "${var.name}-jobs"
  visibility_timeout_seconds = 5
  message_retention_seconds  = 120
  receive_wait_time_seconds  = 20
  max_message_size           = 16384
  sqs_managed_sse_enabled    = true

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.jobs_dlq.arn
    maxReceiveCount     = 10
  })
}

# Kept 14 days (SQS's maximum) so a failed job can be read after the fact.
resource "aws_sqs_queue" "jobs_dlq" {
  name                      = "${var.name}-jobs-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue_redrive_allow_policy" "jobs_dlq" {
  queue_url = aws_sqs_queue.jobs_dlq.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.jobs.arn]
  })
}

resource "aws_cloudwatch_metric_alarm" "jobs_dead_lettered" {
  alarm_name          = "${var.name}-jobs-dead-lettered"
  alarm_description   = "Session jobs no worker could claim landed in the dead-letter queue."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.jobs_dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# Where alarms are sent. Not encrypted with a KMS key: CloudWatch alarms can publish only to
# topics whose key policy grants CloudWatch kms:GenerateDataKey/Decrypt, which the AWS managed
# SNS key (alias/aws/sns) cannot; an alarm carries queue names and counts, nothing secret.
resource "aws_sns_topic" "alarms" {
  name = "${var.name}-alarms"
}

# Optional: AWS mails a confirmation link, and nothing is delivered until it is followed.
resource "aws_sns_topic_subscription" "alarm_email" {
  count = var.alarm_email == "" ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}
