#!/bin/sh
# The simplest fixture qube for qrexec_client.py --fixture: `fixture_shell.sh QUBE USER CMD`
# runs CMD with the host's /bin/sh (tests that only need a command to run "in a qube").
# FIXTURE_QUBE and FIXTURE_USER tell the command where it "runs".
FIXTURE_QUBE=$1
FIXTURE_USER=$2
export FIXTURE_QUBE FIXTURE_USER
exec /bin/sh -c "$3"
