output "instance_profile_names" {
  description = "Instance profile name per role: web, kafka, spark, airflow, gold."
  value       = { for role, profile in aws_iam_instance_profile.this : role => profile.name }
}

output "role_arns" {
  description = "IAM role ARN per role: web, kafka, spark, airflow, gold."
  value       = { for role, r in aws_iam_role.this : role => r.arn }
}
