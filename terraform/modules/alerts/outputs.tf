output "topic_arn" {
  description = "ARN of the SNS topic the platform's alerts are published to."
  value       = aws_sns_topic.this.arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the topic's messages; publishers need kms:GenerateDataKey and kms:Decrypt on it."
  value       = module.key.arn
}
