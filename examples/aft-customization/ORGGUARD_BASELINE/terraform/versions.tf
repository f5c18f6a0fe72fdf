terraform {
  required_version = ">= 1.5.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100" # the version the modules were tested with; they pin the same range
    }
  }
}
