locals {
  bucket  = "${var.name}-objects-${data.aws_caller_identity.current.account_id}"
  # Keys automatic uploads read Drive and Dropbox links with, when the
  # deployment has its own (organisations may set theirs in their settings).
  # Optional secrets, set when their ARN is given: the keys automatic
  # uploads read Drive and Dropbox links with (organisations may set their
  # own), and a MongoDB URI for snapshots.
  optional_secrets = [
    for name, arn in {
      OAS_GOOGLE_API_KEY     = var.google_api_key_secret_arn
      OAS_DROPBOX_APP_SECRET = var.dropbox_app_secret_arn
      OAS_SNAPSHOTS_URL      = var.snapshots_url_secret_arn
    } : { name = name, valueFrom = arn } if arn != ""
  ]
  secrets = concat(
    [var.database_url_secret_arn, var.jwt_secret_arn, var.webhook_secret_arn],
    [for s in local.optional_secrets : s.valueFrom],
  )
  # What a module run shares with the gateway: the same settings the local
  # and docker launchers hand it (crates/platform's module environment;
  # services/oas/tests/it/deployment.rs checks that they agree). Modules
  # never get the JWT key.
  module_secrets = concat([
    { name = "OAS_DATABASE_URL", valueFrom = var.database_url_secret_arn },
    { name = "OAS_WEBHOOK_SECRET", valueFrom = var.webhook_secret_arn },
  ], local.optional_secrets)
  gateway_secrets = concat(local.module_secrets, [
    { name = "OAS_JWT_SECRET", valueFrom = var.jwt_secret_arn },
  ])
  shared_environment = [
    { name = "OAS_STORAGE_URL", value = "s3://${local.bucket}/oas" },
    { name = "OAS_EVENTS_QUEUE_URL", value = aws_sqs_queue.events.url },
    { name = "OAS_LOG_FORMAT", value = "json" },
    { name = "OAS_MAX_UPLOAD_BYTES", value = tostring(var.max_upload_bytes) },
    { name = "AWS_REGION", value = var.region },
    { name = "OAS_DROPBOX_APP_KEY", value = var.dropbox_app_key },
  ]
}

data "aws_caller_identity" "current" {}

resource "aws_ecs_cluster" "oas" {
  name = var.name
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_cloudwatch_log_group" "oas" {
  name              = "/ecs/${var.name}"
  retention_in_days = 90
}

resource "aws_security_group" "tasks" {
  name        = "${var.name}-tasks"
  description = "OAS gateway and module tasks"
  vpc_id      = var.vpc_id

  ingress {
    description = "Gateway HTTP from inside the VPC (the load balancer)"
    from_port   = 8000
    to_port     = 8000
    protocol    = "tcp"
    self        = true
  }

  egress {
    description = "Database, AWS APIs, and module webhooks to the gateway"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

# Files, cleaned files and Parquet lines; never public.
resource "aws_s3_bucket" "objects" {
  bucket = local.bucket
}

resource "aws_s3_bucket_public_access_block" "objects" {
  bucket                  = aws_s3_bucket.objects.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "objects" {
  bucket = aws_s3_bucket.objects.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# Browsers upload straight to presigned URLs.
resource "aws_s3_bucket_cors_configuration" "objects" {
  bucket = aws_s3_bucket.objects.id
  cors_rule {
    allowed_methods = ["PUT", "GET"]
    allowed_origins = [var.public_url]
    allowed_headers = ["*"]
    max_age_seconds = 3600
  }
}

# Completion events; a message that fails five times goes to the dead letters.
resource "aws_sqs_queue" "events_dead" {
  name                      = "${var.name}-events-dead"
  message_retention_seconds = 1209600
}

resource "aws_sqs_queue" "events" {
  name                       = "${var.name}-events"
  visibility_timeout_seconds = 60
  receive_wait_time_seconds  = 20
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.events_dead.arn
    maxReceiveCount     = 5
  })
}
