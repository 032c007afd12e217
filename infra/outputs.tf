output "cluster" {
  value = aws_ecs_cluster.oas.name
}

output "bucket" {
  value = aws_s3_bucket.objects.bucket
}

output "events_queue_url" {
  value = aws_sqs_queue.events.url
}

output "events_dead_letter_queue_url" {
  value = aws_sqs_queue.events_dead.url
}

output "tasks_security_group" {
  description = "Security group of the gateway and module tasks (for one-off tasks: oas migrate)."
  value       = aws_security_group.tasks.id
}
