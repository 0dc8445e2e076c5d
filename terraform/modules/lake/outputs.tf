output "lake_bucket_name" {
  description = "Name of the lake bucket."
  value       = aws_s3_bucket.this.id
}

output "lake_bucket_arn" {
  description = "ARN of the lake bucket."
  value       = aws_s3_bucket.this.arn
}

output "lake_url" {
  description = "Root of the lake as Spark reads it (s3a://<bucket>/)."
  value       = "s3a://${aws_s3_bucket.this.id}/"
}

output "lake_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the lake's objects."
  value       = module.key.arn
}
