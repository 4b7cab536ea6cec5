#!/bin/sh
# Issue 4 acceptance with the fake qvm-run: runs the built qubes-netmap on the seed-like system.
#   acceptance.sh QUBES_NETMAP CASE     CASE: seed | vpn-leak | unreachable
# Exit 0 when the case holds, 1 when it does not, 77 (skipped) without python3.
set -u
bin=$1
case=$2
here=$(cd "$(dirname "$0")" && pwd)
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is needed to read the JSON export"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/netmap-acceptance.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Checks run only on the live system: the seed is read through the stand-in qvm-ls.
export PATH="$here:$here/../fake-bin:$PATH" NETMAP_FAKE_STATE="$work/state" QT_QPA_PLATFORM=offscreen
export FAKE_QVM_LS_MODE=good FAKE_QVM_LS_FILE="$here/seed-qvm-ls.txt" FAKE_QUBES_PREFS_MODE=good
fail() { echo "FAIL ($case): $*"; exit 1; }

case $case in
  seed) export NETMAP_FAKE_QVM="$here/seed" ;;
  vpn-leak) export NETMAP_FAKE_QVM="$here/vpn-leak:$here/seed" ;;
  unreachable) export NETMAP_FAKE_QVM="$here/unreachable:$here/seed" ;;
  *) echo "unknown case $case"; exit 2 ;;
esac

"$bin" --verify --export "$work/report.md" --export "$work/map.json" \
       --export "$work/map.yaml" > "$work/stdout" 2> "$work/stderr"
rc=$?
cat "$work/stderr"

json_check() {
  python3 - "$work/map.json" "$case" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
case = sys.argv[2]
checks = [(q["name"], c["check"], c["status"]) for q in doc["qubes"] for c in q.get("checks", [])]
bad = [c for c in checks if c[2] in ("fail", "error")]
links = {l["from"]: l for l in doc["links"]}
def need(cond, what):
    if not cond:
        print("FAIL (%s): %s" % (case, what)); sys.exit(1)
if case == "seed":
    need(not bad, "no check fails or errors: %s" % bad)
    for name, ip in (("work", "203.0.113.7"), ("untrusted", "203.0.113.7"), ("work-vpn", "198.51.100.23"), ("whonix", "192.0.2.45")):
        need(links[name]["external_ip"] == ip and not links[name]["failed"], "link %s carries %s" % (name, ip))
    need(links["work"]["colour"] == links["untrusted"]["colour"] != links["work-vpn"]["colour"] != links["whonix"]["colour"],
         "one colour per exit")
    for name in ("work", "untrusted", "work-vpn"):
        need((name, "isolation", "pass") in checks, "isolation holds for %s" % name)
elif case == "vpn-leak":
    need(bad == [("work-vpn", "vpn", "fail")], "exactly the vpn check of work-vpn fails: %s" % bad)
    need(links["work-vpn"]["failed"], "the work-vpn link shows the failure")
elif case == "unreachable":
    need(checks and all(c[2] != "pass" for c in checks), "nothing passes")
PY
}

case $case in
  seed)
    [ $rc -eq 0 ] || fail "exit $rc, expected 0"
    for line in '## Network flow and egress IP mapping' '| Qube | Internal IP | NetVM | External IP |' \
                '## Security verification tests' '| Test | Steps performed | Expected | Result |' \
                '| work | 10.137.0.15 | sys-firewall | 203.0.113.7 (clearnet) |' \
                '| untrusted | 10.137.0.16 | sys-firewall | 203.0.113.7 (clearnet) |' \
                '| work-vpn | 10.137.0.27 | sys-vpn | 198.51.100.23 (vpn) |' \
                '| whonix | 10.138.38.126 | sys-whonix | 192.0.2.45 (tor) |'; do
      grep -qF -- "$line" "$work/report.md" || fail "report.md lacks: $line"
    done
    grep -qF '❌' "$work/report.md" && fail "report.md shows a failure"
    json_check || exit 1
    # The saved snapshot keeps the evidence: loading it shows the same colours.
    "$bin" --snapshot "$work/map.yaml" --export "$work/reloaded.json" -q || fail "reloading the snapshot"
    python3 -c "import json,sys; a,b=(json.load(open(f))['links'] for f in sys.argv[1:]); sys.exit(a!=b)" \
        "$work/map.json" "$work/reloaded.json" || fail "the reloaded snapshot has other link colours"
    ;;
  vpn-leak)
    [ $rc -eq 1 ] || fail "exit $rc, expected 1"
    json_check || exit 1
    grep -qF '❌ fail' "$work/report.md" || fail "report.md does not show the leak"
    ;;
  unreachable)
    [ $rc -ne 0 ] || fail "exit 0 although no qube could be reached"
    json_check || exit 1
    ;;
esac
echo "PASS ($case)"
