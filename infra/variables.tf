variable "region" {
  description = "AWS region."
  type        = string
}

variable "name" {
  description = "Prefix of every resource's name."
  type        = string
  default     = "oas"
}

variable "vpc_id" {
  description = "VPC of the tasks."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the tasks (with a NAT gateway or VPC endpoints for ECR, S3, SQS, logs)."
  type        = list(string)
}

variable "image_repository" {
  description = "ECR repository URL prefix; images are <prefix>/oas and <prefix>/oas-<module>."
  type        = string
}

variable "image_tag" {
  description = "Tag of the images to run."
  type        = string
}

variable "modules" {
  description = "Modules with a task definition of their own."
  type        = list(string)
  default     = ["uploads", "importer", "catalogue-matching", "report", "statement", "ping"]
}

variable "public_url" {
  description = "URL clients reach the gateway at (OAS_PUBLIC_URL)."
  type        = string
}

variable "target_group_arn" {
  description = "Load balancer target group of the gateway (port 8000, health check /readyz)."
  type        = string
}

variable "database_url_secret_arn" {
  description = "Secrets Manager secret holding OAS_DATABASE_URL (postgres://…)."
  type        = string
}

variable "jwt_secret_arn" {
  description = "Secrets Manager secret holding OAS_JWT_SECRET."
  type        = string
}

variable "webhook_secret_arn" {
  description = "Secrets Manager secret holding OAS_WEBHOOK_SECRET."
  type        = string
}

variable "gateway_count" {
  description = "Gateway tasks."
  type        = number
  default     = 2
}

variable "module_timeout_seconds" {
  description = "OAS_MODULE_TIMEOUT: how long a module run may take."
  type        = number
  default     = 3600
}

variable "google_api_key_secret_arn" {
  type        = string
  default     = ""
  description = "Secrets Manager secret holding OAS_GOOGLE_API_KEY (automatic uploads from Google Drive); empty: none."
}

variable "dropbox_app_key" {
  type        = string
  default     = ""
  description = "OAS_DROPBOX_APP_KEY: the Dropbox app automatic uploads read shared links with; empty: none."
}

variable "dropbox_app_secret_arn" {
  type        = string
  default     = ""
  description = "Secrets Manager secret holding OAS_DROPBOX_APP_SECRET; empty: none."
}

variable "snapshots_url_secret_arn" {
  description = "Secrets Manager ARN of a MongoDB URI for per-file snapshots (OAS_SNAPSHOTS_URL); empty keeps them in PostgreSQL."
  type        = string
  default     = ""
}

variable "max_upload_bytes" {
  description = "Largest report accepted, in bytes (OAS_MAX_UPLOAD_BYTES); the gateway and the modules must agree."
  type        = number
  default     = 4294967296
}
