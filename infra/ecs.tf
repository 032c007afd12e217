resource "aws_ecs_task_definition" "gateway" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 512
  memory                   = 1024
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.gateway.arn

  container_definitions = jsonencode([{
    name         = "oas"
    image        = "${var.image_repository}/oas:${var.image_tag}"
    essential    = true
    portMappings = [{ containerPort = 8000, protocol = "tcp" }]
    environment = concat(local.shared_environment, [
      { name = "OAS_BIND", value = "0.0.0.0:8000" },
      { name = "OAS_PUBLIC_URL", value = var.public_url },
      { name = "OAS_LAUNCHER", value = "ecs" },
      { name = "OAS_ECS_CLUSTER", value = aws_ecs_cluster.oas.name },
      { name = "OAS_ECS_TASK_DEFINITION_PREFIX", value = "${var.name}-" },
      { name = "OAS_ECS_SUBNETS", value = join(",", var.subnet_ids) },
      { name = "OAS_ECS_SECURITY_GROUPS", value = aws_security_group.tasks.id },
      { name = "OAS_MODULE_TIMEOUT", value = tostring(var.module_timeout_seconds) },
    ])
    secrets = local.gateway_secrets
    healthCheck = {
      command     = ["CMD", "oas", "health"]
      interval    = 10
      timeout     = 5
      retries     = 3
      startPeriod = 30
    }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.oas.name
        awslogs-region        = var.region
        awslogs-stream-prefix = "gateway"
      }
    }
  }])
}

# One task definition per module: family "<name>-<module>", container
# "<module>", image "<repository>/oas-<module>" (the docker launcher's names
# too). The gateway starts one task per run with the job in the container's
# OAS_JOB.
resource "aws_ecs_task_definition" "module" {
  for_each                 = toset(var.modules)
  family                   = "${var.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 2048
  memory                   = 8192
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.module.arn

  ephemeral_storage {
    size_in_gib = 50
  }

  container_definitions = jsonencode([{
    name        = each.key
    image       = "${var.image_repository}/oas-${each.key}:${var.image_tag}"
    essential   = true
    environment = local.shared_environment
    secrets     = local.module_secrets
    # A stopped task's module reports its run failed within this (SIGTERM first).
    stopTimeout = 30
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.oas.name
        awslogs-region        = var.region
        awslogs-stream-prefix = each.key
      }
    }
  }])
}

resource "aws_ecs_service" "gateway" {
  name            = "${var.name}-gateway"
  cluster         = aws_ecs_cluster.oas.id
  task_definition = aws_ecs_task_definition.gateway.arn
  desired_count   = var.gateway_count
  launch_type     = "FARGATE"

  network_configuration {
    subnets         = var.subnet_ids
    security_groups = [aws_security_group.tasks.id]
  }

  load_balancer {
    target_group_arn = var.target_group_arn
    container_name   = "oas"
    container_port   = 8000
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
}
