#!/bin/bash
# Builds bibrec and runs the daemon in the foreground on the built-in
# default configuration: store and master key in ./bibrec-data (created on
# first start), SIP on 127.0.0.1:5060 over UDP and TCP, RTP on 127.0.0.1.
# Stop it with Ctrl-C: recordings in progress are sealed.
# Extra arguments go to bibrecd (e.g. -c contrib/bibrec.xml.example).
set -eu
cd "$(dirname "$0")/.."
bash contrib/deps.sh
[ -x configure ] || autoreconf -fi
# Built in build/ (not in place), so that tests/run-all.sh can build its own
# sanitizer tree beside it.
mkdir -p build
(cd build && { [ -f Makefile ] || ../configure; } && make -j"$(nproc)")
echo "bibrecd starting; in another terminal: ./build/bibrec list" >&2
exec ./build/bibrecd "$@"
