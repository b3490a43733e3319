#!/usr/bin/env bash
# record.sh [options|all] — record what real QEMU does into tests/fixtures/real-qemu/,
# the fixtures compat's tests compare with. Installs QEMU 7.2 and 10.0 first
# (install.sh; root) unless COMPAT_QEMU72/COMPAT_QEMU10 name binaries.
#
#   options  every case of option-cases.jsonl run on QEMU 10.0 -> options-10.0.json
#   config   the root port's and e1000e's config spaces and compared bits, QEMU 7.2 and 10.0
#            -> examples/src/devices/recorded/
#   all      everything above (the default)
#
# Re-record after changing a case list, then review the diff of the recorded
# files: it is what the tests will hold compat to.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${COMPAT_QEMU72:-}${COMPAT_QEMU10:-}" ]; then
    bash scripts/real-qemu/install.sh
fi
cargo run --quiet --release -p compat-tests --bin record-real-qemu -- "${1:-all}"
