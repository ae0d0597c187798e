#!/usr/bin/env bash
# Placeholder for the `make run` demo; the real script replaces this one.
set -euo pipefail
echo "demo not ready yet"
