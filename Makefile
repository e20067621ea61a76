# gatehouse — common tasks. `make help` lists them.
.PHONY: help install start test build

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

install: ## install dependencies (npm ci)
	npm ci

start: ## run gatehouse locally with the embedded store and the development IdP
	npm start

test: ## run the whole test suite
	npm test

build: ## bundle the Lambda function into dist/
	npm run build

# ---- AWS (docs/deploy.md) ----
.PHONY: deploy plan destroy outputs test-infra test-localstack tfvars-check smoke-check
TERRAFORM ?= terraform
TF_DIR    := infra
TF_VARS   ?= terraform.tfvars

tfvars-check:
	@test -f $(TF_DIR)/$(TF_VARS) || { echo "missing $(TF_DIR)/$(TF_VARS): cp $(TF_DIR)/terraform.tfvars.example $(TF_DIR)/$(TF_VARS) and edit it (docs/deploy.md)"; exit 2; }

dist/lambda.zip:
	npm run build

deploy: tfvars-check build ## build the bundle, terraform init + apply in infra/ with infra/terraform.tfvars, smoke-check the function, print the MCP URL
	$(TERRAFORM) -chdir=$(TF_DIR) init -input=false
	$(TERRAFORM) -chdir=$(TF_DIR) apply -input=false -var-file=$(TF_VARS)
	$(MAKE) smoke-check
	@echo; echo "MCP URL: $$($(TERRAFORM) -chdir=$(TF_DIR) output -raw mcp_url)"

smoke-check: ## invoke the deployed function's smoke check: reads its secrets, signs and seals once with KMS, reaches the table
	npm run --silent smoke-check -- "$$($(TERRAFORM) -chdir=$(TF_DIR) output -raw lambda_function_name)" "$$($(TERRAFORM) -chdir=$(TF_DIR) output -raw region)"

plan: tfvars-check build ## build the bundle and show what `make deploy` would change
	$(TERRAFORM) -chdir=$(TF_DIR) init -input=false
	$(TERRAFORM) -chdir=$(TF_DIR) plan -input=false -var-file=$(TF_VARS)

destroy: tfvars-check dist/lambda.zip ## delete the deployment (set deletion_protection = false and deploy first)
	$(TERRAFORM) -chdir=$(TF_DIR) destroy -input=false -var-file=$(TF_VARS)

outputs: ## print the deployment's outputs (MCP URL, issuer, hosted UI domain, pool id, table, function)
	@$(TERRAFORM) -chdir=$(TF_DIR) output

test-infra: ## Terraform checks: fmt, offline init, validate, mock-provider plan tests, static facts
	npx tap --disable-coverage 'test/infra/**/*.test.ts'

test-localstack: ## terraform apply of infra/ to an AWS emulator (moto_server on a free port, or LocalStack at LOCALSTACK_ENDPOINT), checks, gatehouse and the bundled handler on it, destroy
	npm run test:deployed
