# Thin wrapper: every target is a script, so CI and people run the same thing.
.PHONY: all build demo test

all: build

build:
	bash scripts/deps.sh
	bash scripts/build.sh

demo:
	bash scripts/demo.sh

test:
	bash tests/run.sh
