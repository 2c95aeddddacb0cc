#!/usr/bin/env bash
# Chromium (and an emoji font) for the slide PDFs and the slide tests: found, else installed (root
# with apt-get), else a clear message. Always exits 0: without Chromium the HTML decks still build.
packages=()
chromium=""
for name in chromium chromium-browser google-chrome google-chrome-stable; do
  if command -v "$name" >/dev/null; then chromium="$name"; break; fi
done
[ -z "$chromium" ] && packages+=(chromium)
# Some tweets and exercises hold emoji; without a colour emoji font they print as empty boxes.
fc-list 2>/dev/null | grep -qi emoji || packages+=(fonts-noto-color-emoji)
[ ${#packages[@]} = 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing ${packages[*]} (Debian) for the slide PDFs and browser tests..."
  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null; then
    exit 0
  fi
fi
if [ -z "$chromium" ]; then
  echo "Chromium is missing: slide PDFs and the browser tests of the slides will be skipped." >&2
  echo "Install it with 'sudo apt-get install chromium' (Debian) or put any Chrome on PATH." >&2
else
  echo "No emoji font: emoji on the slides show as boxes (sudo apt-get install fonts-noto-color-emoji)." >&2
fi
exit 0
