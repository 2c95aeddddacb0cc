#!/usr/bin/env bash
# Chromium for the slide PDFs and the slide tests: found, else installed (root with apt-get),
# else a clear message. Always exits 0: without Chromium the HTML decks still build.
for name in chromium chromium-browser google-chrome google-chrome-stable; do
  if command -v "$name" >/dev/null; then exit 0; fi
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Chromium (Debian package 'chromium') for the slide PDFs and browser tests..."
  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
    exit 0
  fi
fi
echo "Chromium is missing: slide PDFs and the browser tests of the slides will be skipped." >&2
echo "Install it with 'sudo apt-get install chromium' (Debian) or put any Chrome on PATH." >&2
exit 0
