# The README's commands. Each installs what it needs first (scripts/setup.sh, idempotent).
.PHONY: demo test check bench fuzz package setup clean

demo:
	scripts/setup.sh build
	scripts/package.sh
	node scripts/demo.mjs

test:
	scripts/setup.sh test
	scripts/test.sh

# The fast loop: formatting, lints (Rust and JS), the core's native tests, the documents' links.
check:
	scripts/setup.sh build
	scripts/check.sh

bench:
	scripts/setup.sh bench
	scripts/package.sh
	node bench/run.mjs

# Coverage-guided fuzzing of the core; FUZZ_SECONDS per target (default in scripts/fuzz.sh).
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

package:
	scripts/setup.sh build
	scripts/package.sh
	cd dist/vox-crm && npm pack --pack-destination ..

setup:
	scripts/setup.sh test

clean:
	rm -rf target .build dist
