terraform {
  # 1.9+: variable validations may refer to other variables. 1.10+: the S3 backend locks with a
  # lock file in the state bucket (use_lockfile), so no DynamoDB table has to exist first.
  required_version = ">= 1.10.0"

  # Remote state in S3: encrypted at rest, locked while a plan or apply runs. Which bucket, key
  # and region is a partial configuration kept out of the repository:
  #   terraform init -backend-config=backend.hcl   (copy backend.hcl.example; README "State")
  # The state holds secrets (the edge's access keys, CONTROL_SECRET, API keys), so the bucket
  # must be private, versioned and encrypted before the first init.
  backend "s3" {
    encrypt      = true
    use_lockfile = true
  }

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
    cloudflare = {
      source  = "cloudflare/cloudflare"
      version = "~> 5.8"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = merge({ Project = var.name, ManagedBy = "terraform" }, var.tags)
  }
}

# Reads CLOUDFLARE_API_TOKEN from the environment, the same token `wrangler deploy` uses.
provider "cloudflare" {}
