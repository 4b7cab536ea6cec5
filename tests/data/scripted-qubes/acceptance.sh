#!/bin/sh
# Issue 4 acceptance: runs the built qubes-netmap on the seed-like system with the real qvm-run
# of the Qubes admin client (RELEASE 4.3 or 4.2), served by the qubesd stand-in (the qubes of
# seed.yaml) and the qrexec-client stand-in, which plays each qube with ./qube-shell.
#   acceptance.sh QUBES_NETMAP CASE [RELEASE]     CASE: seed | vpn-leak | unreachable | intent
# Exit 0 when the case holds, 1 when it does not, 77 (skipped) without python3 / PyYAML or
# without that release of the client (a failure under CI=true).
set -u
bin=$1
case=$2
release=${3:-4.3}
here=$(cd "$(dirname "$0")" && pwd)
qubes=$(cd "$here/../../qubes" && pwd)
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is needed to read the JSON export"; exit 77; }
python3 -c 'import yaml' 2>/dev/null || { echo "SKIP: python3-yaml is needed to read seed.yaml"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/netmap-acceptance.XXXXXX")
trap 'rm -rf "$work"' EXIT
export NETMAP_FAKE_STATE="$work/state" QT_QPA_PLATFORM=offscreen
# The program on the live system served from the seed: the real tools on PATH, a qubesd
# stand-in holding the seed's qubes (checks run only on the live source).
netmap() {
  python3 "$qubes/with_standin.py" --release "$release" --snapshot "$here/seed.yaml" \
      --fixture "$here/qube-shell" --log "$work/qubesd.log" -- "$bin" "$@"
}
fail() { echo "FAIL ($case): $*"; exit 1; }

case $case in
  seed) export NETMAP_FAKE_QVM="$here/seed" ;;
  vpn-leak) export NETMAP_FAKE_QVM="$here/vpn-leak:$here/seed" ;;
  unreachable) export NETMAP_FAKE_QVM="$here/unreachable:$here/seed" ;;
  intent) export NETMAP_FAKE_QVM="$here/seed" ;;
  *) echo "unknown case $case"; exit 2 ;;
esac

# The unique-name method (dns-leak cannot pass without it); the fake curl plays the zone's service.
printf 'dns:\n  zone: probe.example.org\n  zone_service: https://zone.example.org/resolvers\n' \
    > "$work/config.yaml"
if [ "$case" = intent ]; then
  # work is meant to leave by a VPN; on the seed it leaves by the clearnet.
  printf 'qubes:\n  work: vpn\n  "yes": via sys-firewall\ntags:\n  anon-vm: tor\nallow:\n  - [work, untrusted]\n' \
      > "$work/expect.yaml"
  netmap --verify=work --config "$work/config.yaml" --expect "$work/expect.yaml" \
         --export "$work/map.json" --export "$work/map.yaml" > "$work/stdout" 2> "$work/stderr"
else
  netmap --verify --config "$work/config.yaml" --export "$work/report.md" --export "$work/map.json" \
         --export "$work/map.yaml" > "$work/stdout" 2> "$work/stderr"
fi
rc=$?
cat "$work/stderr"
[ $rc -eq 77 ] && exit 77
if grep -q UNIMPLEMENTED "$work/qubesd.log"; then
  echo "NOTE ($case): the real qvm-run asked qubesd for calls the stand-in does not implement:"
  grep UNIMPLEMENTED "$work/qubesd.log" | sort -u
fi

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
  intent)
    [ $rc -eq 1 ] || fail "exit $rc, expected 1 (work breaks its expectation)"
    # The saved snapshot keeps the intent: reopened, it expects the same egress everywhere the
    # first run did, and judges the same checks the same way.
    "$bin" --snapshot "$work/map.yaml" --export "$work/reloaded.json" -q
    rc=$?
    [ $rc -eq 1 ] || fail "reopened: exit $rc, expected 1 (the saved failure still counts)"
    python3 - "$work/map.yaml" "$work/map.json" "$work/reloaded.json" <<'PY' || exit 1
import json, sys, yaml
saved = yaml.safe_load(open(sys.argv[1]))
first, again = (json.load(open(f)) for f in sys.argv[2:])
def need(cond, what):
    if not cond:
        print("FAIL (intent): %s" % what); sys.exit(1)
need(saved.get("intent") == {"file": sys.argv[1].replace("map.yaml", "expect.yaml"),
                             "qubes": {"work": "vpn", "yes": "via sys-firewall"},
                             "tags": {"anon-vm": "tor"}, "allow": [["work", "untrusted"]]},
     "map.yaml saves the intent as PyYAML reads it: %r" % saved.get("intent"))
expected = lambda doc: {q["name"]: q["expected_egress"] for q in doc["qubes"]}
checks = lambda doc: {q["name"]: [(c["check"], c["status"], c["expected"]) for c in q["checks"]] for q in doc["qubes"]}
need(expected(again)["work"] == "vpn", "reopened, work is expected on a VPN: %s" % expected(again)["work"])
need(expected(again) == expected(first), "the reopened snapshot expects the same egress")
need(checks(again) == checks(first), "the reopened snapshot holds the same verdicts")
need([c[:2] for c in checks(again)["work"] if c[0] == "vpn"] == [("vpn", "fail")],
     "work's vpn check failed: %s" % checks(again)["work"])
need([l["failed"] for l in again["links"] if l["from"] == "work"] == [True], "work's link shows the failure")
PY
    ;;
esac
echo "PASS ($case)"
