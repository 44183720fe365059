#!/usr/bin/env bash
# Studio in a real headless Chromium: Debian's `chromium`, driven by Playwright for Python (from
# PyPI, pinned) with the system browser as its executable — no browser download. Installs what it
# needs itself, then runs Tests/Studio/studio_browser_test.py against `sluice studio` on a copy of
# the shipped transformations. Screenshots of each step: .build/studio-screenshots/.
#
# Usage: scripts/studio-browser-test.sh [path/to/sluice]   (default .build/debug/sluice)
set -euo pipefail
cd "$(dirname "$0")/.."
playwright_version=1.65.2

if ! command -v chromium >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
installed=$(python3 -c 'from importlib.metadata import version; print(version("playwright"))' 2>/dev/null || true)
if [ "$installed" != "$playwright_version" ]; then
    # The wheel carries Playwright's own driver; the browser is Debian's, so none is downloaded.
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 python3 -m pip install --quiet --disable-pip-version-check "playwright==$playwright_version"
fi

binary=${1:-.build/debug/sluice}
if [ ! -x "$binary" ]; then
    swift build --product sluice
fi
mkdir -p .build/studio-screenshots
exec python3 Tests/Studio/studio_browser_test.py --sluice "$binary" --chromium "$(command -v chromium)" \
    --screenshots .build/studio-screenshots
