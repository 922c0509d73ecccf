#!/bin/sh
# The test suite on a busy machine: two processes spin (one per core of a two-core machine) for
# as long as vitest runs, and every wait in the tests gets RR_TCP_TEST_TIMEOUT_SCALE times its
# limit (4 unless set). Arguments go to vitest: npm run test:loaded -- test/worker
# Exits with vitest's code; the spinners are stopped however it ends.
set -u

scale=${RR_TCP_TEST_TIMEOUT_SCALE:-4}
spinners=""

stop_spinners() {
  for pid in $spinners; do kill "$pid" 2>/dev/null; done
  for pid in $spinners; do wait "$pid" 2>/dev/null; done
  spinners=""
}
trap stop_spinners EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for _ in 1 2; do
  sh -c 'while :; do :; done' &
  spinners="$spinners $!"
done
echo "test:loaded: 2 busy processes (pids$spinners), RR_TCP_TEST_TIMEOUT_SCALE=$scale" >&2

RR_TCP_TEST_TIMEOUT_SCALE=$scale npx vitest run "$@"
code=$?
stop_spinners
exit $code
