# The README's commands. Each installs what it needs first (scripts/setup.sh, idempotent).
.PHONY: demo test package setup clean

demo:
	scripts/setup.sh build
	scripts/package.sh
	node scripts/demo.mjs

test:
	scripts/setup.sh test
	scripts/test.sh

package:
	scripts/setup.sh build
	scripts/package.sh
	cd dist/vox-crm && npm pack --pack-destination ..

setup:
	scripts/setup.sh test

clean:
	rm -rf target .build dist
