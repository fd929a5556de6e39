#!/bin/bash
#
# t_record_tcp.sh: t_record_call.sh with SIP over TCP (sipp -t t1), on its own ports.

set -u
E2E_TRANSPORT=t1 E2E_NUM=4 E2E_NAME=t_record_tcp exec bash "${top_srcdir:-.}/tests/e2e/t_record_call.sh"
