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
