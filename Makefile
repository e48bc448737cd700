# The two commands of the README:
#   make up     — install what is missing, then run the whole platform (embedded broker and database unless configured)
#   make test   — install what is missing (Chromium included), then run every test
.PHONY: up test install bench kafka-lane asyncapi schemas lock lock-upgrade lock-check k8s-topics deploy-check

install:
	@scripts/setup

up: install
	.venv/bin/nrn up $(ARGS)

test:
	@scripts/setup --browser
	.venv/bin/pytest $(ARGS)

# The integration tests again, against a real Apache Kafka 4.4 broker assembled from Maven Central.
kafka-lane:
	@scripts/setup
	scripts/ci-kafka-lane

bench: install
	.venv/bin/python -m bench.pipeline
	.venv/bin/python -m bench.gateway
	.venv/bin/python -m bench.library
	.venv/bin/python -m bench.requests311
	.venv/bin/python -m bench.engagements
	.venv/bin/python -m bench.accounts
	.venv/bin/python -m bench.peer
	.venv/bin/python -m bench.peer.probono
	.venv/bin/python -m bench.webhooks
	.venv/bin/python -m bench.notifications

schemas: install
	.venv/bin/python -m nrn_contracts schemas

asyncapi: install
	.venv/bin/nrn asyncapi --out contracts/asyncapi.json

# uv.lock pins every dependency of every package (and the test tools of the root pyproject.toml's dev
# group) to exact versions and hashes. After changing any pyproject.toml: `make lock`, commit uv.lock.
# A test-only tool goes into the root pyproject.toml's [dependency-groups] dev (`uv add --dev NAME`).
lock:
	uv lock
	@scripts/setup

# Every pin to the newest version the ranges allow (then run the tests before committing uv.lock).
lock-upgrade:
	uv lock --upgrade
	@scripts/setup

# What CI runs first: fails when a pyproject.toml changed and uv.lock did not.
lock-check:
	@uv lock --check || { echo "uv.lock is stale: run 'make lock' and commit uv.lock" >&2; exit 1; }

# The Strimzi KafkaTopic resources, generated from the topic registry (tests/deploy checks they are current).
k8s-topics: install
	.venv/bin/python -m nrn_contracts k8s-topics --out deploy/k8s/base/kafka/topics.yaml

# docker-compose.yml, the Dockerfiles and deploy/k8s, checked offline (also part of `make test`).
deploy-check: install
	.venv/bin/pytest tests/deploy -p no:cacheprovider
