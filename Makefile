# The two commands of the README:
#   make up     — install what is missing, then run the whole platform (embedded broker and database unless configured)
#   make test   — install what is missing (Chromium included), then run every test
.PHONY: up test install bench kafka-lane asyncapi schemas

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
	.venv/bin/python -m bench.accounts
	.venv/bin/python -m bench.peer
	.venv/bin/python -m bench.webhooks
	.venv/bin/python -m bench.notifications

schemas: install
	.venv/bin/python -m nrn_contracts schemas

asyncapi: install
	.venv/bin/nrn asyncapi --out contracts/asyncapi.json
