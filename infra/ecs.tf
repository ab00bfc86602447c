resource "aws_ecs_cluster" "media" {
  name = local.cluster_name

  setting {
    name  = "containerInsights"
    value = "disabled"
  }
}

resource "aws_ecs_task_definition" "worker" {
  family                   = local.service_name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.task_cpu
  memory                   = var.task_memory_mib
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  container_definitions = jsonencode([{
    name      = local.container_name
    image     = local.image
    essential = true

    environment = [for k, v in merge(local.worker_environment, local.recording_environment) : { name = k, value = v }]
    secrets     = [for k, p in aws_ssm_parameter.handler_secret : { name = k, valueFrom = p.arn }]

    # WebRTC media; only reachable when the security group opens it (network_mode 'public').
    portMappings = [{
      containerPortRange = "${local.rtc_from_port}-${local.rtc_to_port}"
      protocol           = "udp"
    }]

    # The same command as the Dockerfile's HEALTHCHECK: GET /healthz inside the container.
    healthCheck = {
      command     = ["CMD", "node", "media-worker/src/healthcheck.ts"]
      interval    = 10
      timeout     = 5
      retries     = 3
      startPeriod = 30
    }

    # SIGTERM starts the drain (DRAIN_TIMEOUT_MS); ECS sends SIGKILL after this many seconds.
    stopTimeout = var.stop_timeout_s

    ulimits = [{ name = "nofile", softLimit = 65536, hardLimit = 65536 }]

    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = aws_cloudwatch_log_group.worker.name
        "awslogs-region"        = var.aws_region
        "awslogs-stream-prefix" = "worker"
        # A slow log pipe must never stall the audio loop.
        "mode"            = "non-blocking"
        "max-buffer-size" = "25m"
      }
    }
  }])
}

resource "aws_ecs_service" "worker" {
  name                    = local.service_name
  cluster                 = aws_ecs_cluster.media.id
  task_definition         = aws_ecs_task_definition.worker.arn
  launch_type             = "FARGATE"
  platform_version        = "LATEST"
  desired_count           = var.min_tasks
  enable_ecs_managed_tags = true
  propagate_tags          = "SERVICE"

  # New tasks start before old ones stop; old ones holding calls stay protected from scale-in
  # (and from the deployment) until their calls end, then drain on SIGTERM.
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = local.subnet_ids
    security_groups  = [aws_security_group.worker.id]
    assign_public_ip = local.public
  }

  lifecycle {
    # Autoscaling owns the task count after creation.
    ignore_changes = [desired_count]
  }
}
