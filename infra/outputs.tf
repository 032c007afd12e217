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
