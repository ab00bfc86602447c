# The fleet follows the load on two signals:
# - utilisation (target tracking, the main signal): every worker publishes busy slots / MAX_SESSIONS
#   once a minute (embedded metric format in its logs); the policy holds the fleet average at
#   target_utilization_percent, so capacity is added before workers are full.
# - queue backlog (step scaling, the backstop): a job nobody has claimed means every worker is
#   full or gone. Visible jobs add tasks in proportion to how many calls wait; an oldest job older
#   than oldest_job_age_alarm_s adds more at once.
# Scale out fast (one-minute alarms, short cooldown), scale in slowly (target tracking alone, long
# cooldown). Application Auto Scaling scales out when any policy asks and in only when the target
# tracking policy asks; busy tasks are protected from scale-in by the worker itself.

resource "aws_appautoscaling_target" "worker" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.media.name}/${aws_ecs_service.worker.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.min_tasks
  max_capacity       = var.max_tasks
}

resource "aws_appautoscaling_policy" "utilization" {
  name               = "${var.name}-fleet-utilization"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.worker.service_namespace
  resource_id        = aws_appautoscaling_target.worker.resource_id
  scalable_dimension = aws_appautoscaling_target.worker.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.target_utilization_percent
    scale_out_cooldown = var.scale_out_cooldown_s
    scale_in_cooldown  = var.scale_in_cooldown_s
    disable_scale_in   = false

    customized_metric_specification {
      namespace   = var.metrics_namespace
      metric_name = "Utilization"
      statistic   = "Average"
      unit        = "Percent"

      dimensions {
        name  = "ServiceName"
        value = local.service_name
      }
    }
  }
}

resource "aws_appautoscaling_policy" "backlog" {
  name               = "${var.name}-queue-backlog"
  policy_type        = "StepScaling"
  service_namespace  = aws_appautoscaling_target.worker.service_namespace
  resource_id        = aws_appautoscaling_target.worker.resource_id
  scalable_dimension = aws_appautoscaling_target.worker.scalable_dimension

  step_scaling_policy_configuration {
    adjustment_type         = "ChangeInCapacity"
    cooldown                = var.scale_out_cooldown_s
    metric_aggregation_type = "Maximum"

    # Bounds are relative to the alarm threshold (1 waiting job): one task per
    # max_sessions_per_task waiting calls, at least one.
    step_adjustment {
      metric_interval_lower_bound = 0
      metric_interval_upper_bound = var.max_sessions_per_task
      scaling_adjustment          = 1
    }

    step_adjustment {
      metric_interval_lower_bound = var.max_sessions_per_task
      metric_interval_upper_bound = 3 * var.max_sessions_per_task
      scaling_adjustment          = 2
    }

    step_adjustment {
      metric_interval_lower_bound = 3 * var.max_sessions_per_task
      scaling_adjustment          = 4
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "backlog" {
  alarm_name          = "${var.name}-queue-backlog"
  alarm_description   = "Session jobs wait unclaimed: every worker is full. Adds tasks."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.jobs.name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_appautoscaling_policy.backlog.arn]
}

resource "aws_appautoscaling_policy" "oldest_job" {
  name               = "${var.name}-oldest-job-age"
  policy_type        = "StepScaling"
  service_namespace  = aws_appautoscaling_target.worker.service_namespace
  resource_id        = aws_appautoscaling_target.worker.resource_id
  scalable_dimension = aws_appautoscaling_target.worker.scalable_dimension

  step_scaling_policy_configuration {
    adjustment_type         = "ChangeInCapacity"
    cooldown                = var.scale_out_cooldown_s
    metric_aggregation_type = "Maximum"

    step_adjustment {
      metric_interval_lower_bound = 0
      scaling_adjustment          = 2
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "oldest_job" {
  alarm_name          = "${var.name}-oldest-job-age"
  alarm_description   = "A session job waited longer than a caller should: adds tasks at once."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.jobs.name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  threshold           = var.oldest_job_age_alarm_s
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_appautoscaling_policy.oldest_job.arn]
}
