# wgboot — see README.md. Targets stay small; heavier suites are opt-in.
GO      ?= go
PKGS    ?= ./...
FUZZTIME ?= 20s
BIN     := bin

.PHONY: all build test race lint fuzz bench faults demo clean

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/...

# make test: everything CI runs (race detector on, fuzz seeds as plain tests).
test:
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 9m $(PKGS)

lint:
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)

# make fuzz: run every fuzz target for FUZZTIME each.
fuzz:
	@for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# make bench: figures, never timed assertions.
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x $(PKGS)

faults:
	WGBOOT_FAULTS=full $(GO) test -count=1 -timeout 60m -run 'Fault|Property' ./onboard/...

demo: build
	$(BIN)/wgboot demo

clean:
	rm -rf $(BIN)
