#include "checkscripts.h"

#include "checks/checkconfig.h"
#include "model/ipv4.h"
#include "rulesetproof.h"

#include <QRandomGenerator>
#include <QRegularExpression>

namespace netmap {

namespace {

QString lit(const char *text)
{
    return QString::fromLatin1(text);
}

// Common head of every script. Everything runs inside one brace group with stdin from /dev/null:
// qubes.VMShell reads the script from its stdin, so a command reading stdin would eat the rest
// of it, and the shell parses the whole group before running any of it.
const char *kHead = R"SH({
echo 'NETMAP-BEGIN 1'
nm_has() { command -v "$1" >/dev/null 2>&1; }
nm_to() { if nm_has timeout; then timeout "$((nm_t + 2))" "$@"; else "$@"; fi; }
)SH";

// With nm_ca set (a file holding the configured CA certificates), https:// is verified against
// those CAs only. nm_get FAMILY URL: FAMILY 4 or 6 asks over that IP version only (an echo
// endpoint with both must not answer the other family's address), anything else over either.
const char *kHttp = R"SH(nm_get() {
  case $1 in 4) nm_f=-4 ;; 6) nm_f=-6 ;; *) nm_f= ;; esac
  if nm_has curl; then
    if [ -n "$nm_ca" ]; then curl -fsSLg $nm_f --proto '=http,https' --cacert "$nm_ca" --max-time "$nm_t" --max-filesize 65536 "$2"
    else curl -fsSLg $nm_f --proto '=http,https' --max-time "$nm_t" --max-filesize 65536 "$2"; fi
  elif nm_has wget; then
    if [ -n "$nm_ca" ]; then nm_to wget -q $nm_f -T "$nm_t" -t 1 --ca-certificate="$nm_ca" -O - "$2"
    else nm_to wget -q $nm_f -T "$nm_t" -t 1 -O - "$2"; fi
  elif nm_has python3; then nm_to python3 -c 'import socket, ssl, sys, urllib.request
f = {"-4": socket.AF_INET, "-6": socket.AF_INET6}.get(sys.argv[4])
if f:
    g = socket.getaddrinfo
    socket.getaddrinfo = lambda h, p, family=0, *a, **k: g(h, p, f, *a, **k)
c = ssl.create_default_context(cafile=sys.argv[3] or None)
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2]), context=c).read(65536).decode("latin-1"))' "$2" "$nm_t" "$nm_ca" "$nm_f"
  else return 127; fi
}
if nm_has curl; then nm_http=curl; elif nm_has wget; then nm_http=wget; elif nm_has python3; then nm_http=python3; else nm_http=none; fi
echo "NETMAP-TOOL http $nm_http"
nm_ip() {
  if [ "$1" = 6 ]; then nm_g=NETMAP-IP6; else nm_g=NETMAP-IP; fi
  nm_b=$(nm_get "$1" "$3" 2>/dev/null | head -c 256 | tr -d '\r' | head -n 1)
  if [ -n "$nm_b" ]; then printf '%s %s ok %s\n' "$nm_g" "$2" "$nm_b"; else printf '%s %s none\n' "$nm_g" "$2"; fi
}
nm_tor() {
  nm_b=$(nm_get any "$1" 2>/dev/null | head -c 4097 | tr -d '\r\n')
  if [ -n "$nm_b" ]; then printf 'NETMAP-TOR ok %s\n' "$nm_b"; else echo 'NETMAP-TOR none'; fi
}
)SH";

// nm_res NAME prints the addresses NAME resolves to, one a line, through the qube's resolver.
const char *kDns
    = R"SH(if nm_has dig; then nm_dt=dig; elif nm_has getent; then nm_dt=getent; elif nm_has python3; then nm_dt=python3; else nm_dt=none; fi
nm_res() {
  { case $nm_dt in
    dig) nm_to dig +short +time="$nm_t" +tries=1 A "$1" ;;
    getent) nm_to getent ahostsv4 "$1" ;;
    python3) nm_to python3 -c 'import socket, sys
print("\n".join(socket.gethostbyname_ex(sys.argv[1])[2]))' "$1" ;;
  esac; } 2>/dev/null | head -n 32 | while read -r nm_a nm_rest; do
    case $nm_a in ''|*[!0-9a-fA-F.:]*) ;; *) printf '%s\n' "$nm_a" ;; esac
  done
}
nm_dns() {
  nm_res "$1" | while read -r nm_a; do printf 'NETMAP-DNS %s\n' "$nm_a"; done
  echo "NETMAP-DNS-DONE $nm_dt"
}
)SH";

// The unique-name method: resolve every name (at once), then ask the zone's service (the first
// argument) over HTTPS which resolvers asked for them. A subshell, so that its wait waits for
// its own lookups only.
const char *kZone = R"SH(nm_zname() {
  nm_za=$(nm_res "$2" | head -n 1)
  if [ -n "$nm_za" ]; then printf 'NETMAP-ZNAME %s ok %s\n' "$1" "$nm_za"; else printf 'NETMAP-ZNAME %s none\n' "$1"; fi
}
nm_zone() (
  nm_zu=$1; shift
  nm_zi=0
  if [ "$nm_dt" != none ]; then
    for nm_zn in "$@"; do nm_zname "$nm_zi" "$nm_zn" & nm_zi=$((nm_zi + 1)); done
    wait
  fi
  nm_zb=
  if [ "$nm_http" != none ]; then nm_zb=$(nm_get any "$nm_zu" 2>/dev/null | head -c 4096 | tr -d '\r'); fi
  if [ -n "$nm_zb" ]; then
    echo 'NETMAP-ZSVC ok'
    printf '%s\n' "$nm_zb" | head -n 40 | while IFS= read -r nm_zl; do printf 'NETMAP-ZQ %s\n' "$nm_zl"; done
  else
    echo 'NETMAP-ZSVC none'
  fi
  echo "NETMAP-ZONE-DONE $nm_dt"
)
)SH";

const char *kIsolation = R"SH(if nm_has ping; then nm_ping=ping; else nm_ping=none; fi
if nm_has bash && nm_has timeout; then nm_tcp=bash; elif nm_has nc; then nm_tcp=nc; elif nm_has python3; then nm_tcp=python3; else nm_tcp=none; fi
echo "NETMAP-TOOL ping $nm_ping"
echo "NETMAP-TOOL tcp $nm_tcp"
nm_icmp() {
  if ping -c 1 -W "$nm_t" "$1" >/dev/null 2>&1; then nm_r=yes; else nm_r=no; fi
  printf 'NETMAP-REACH %s icmp %s\n' "$1" "$nm_r"
}
nm_port() {
  case $nm_tcp in
    bash) timeout "$nm_t" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" ;;
    nc) nc -z -w "$nm_t" "$1" "$2" ;;
    python3) nm_to python3 -c 'import socket, sys
socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3])).close()' "$1" "$2" "$nm_t" ;;
  esac >/dev/null 2>&1
  if [ $? -eq 0 ]; then nm_r=yes; else nm_r=no; fi
  printf 'NETMAP-REACH %s tcp/%s %s\n' "$1" "$2" "$nm_r"
}
)SH";

const char *kInterfaces = R"SH(for nm_i in /sys/class/net/*; do
  [ -e "$nm_i" ] || continue
  nm_o=$(cat "$nm_i/operstate" 2>/dev/null); nm_y=$(cat "$nm_i/type" 2>/dev/null); nm_f=$(cat "$nm_i/flags" 2>/dev/null)
  printf 'NETMAP-IF %s %s %s %s\n' "${nm_i##*/}" "${nm_o:--}" "${nm_y:--}" "${nm_f:--}"
done
echo 'NETMAP-IF-DONE'
)SH";

// The ruleset read, the only part of a probe that needs root: the nft tables as text (evidence
// for the owner) and as libnftables JSON (what the kill-switch proof reads), and the
// iptables-legacy tables, which the kernel runs alongside nft's. The JSON is one long line;
// fold cuts it into protocol lines that the parser joins again.
const char *kRuleset = R"SH(if nm_has nft; then
  echo 'NETMAP-TOOL ruleset nft'
  echo "NETMAP-RULES-SIZE $(nft list ruleset 2>/dev/null | wc -c)"
  nft list ruleset 2>/dev/null | head -c "$nm_rc" | sed 's/^/NETMAP-NFT /'
  echo
  echo "NETMAP-NFTJ-SIZE $(nft -j list ruleset 2>/dev/null | tr -d '\n' | wc -c)"
  nft -j list ruleset 2>/dev/null | head -c "$nm_jc" | tr -d '\n' | fold -b -w 4000 | sed 's/^/NETMAP-NFTJ /'
  echo
elif nm_has iptables-save; then
  echo 'NETMAP-TOOL ruleset iptables'
  echo "NETMAP-RULES-SIZE $(iptables-save 2>/dev/null | wc -c)"
  iptables-save 2>/dev/null | head -c "$nm_rc" | sed 's/^/NETMAP-IPT /'
  echo
else
  echo 'NETMAP-TOOL ruleset none'
fi
if nm_has iptables-legacy-save; then
  echo "NETMAP-LEGACY-SIZE $(iptables-legacy-save 2>/dev/null | wc -c)"
  iptables-legacy-save 2>/dev/null | head -c "$nm_rc" | sed 's/^/NETMAP-IPTL /'
  echo
fi
echo 'NETMAP-RULES-DONE'
)SH";

// No `wait` here: the drill leaves a detached restore job behind on purpose.
const char *kTail = R"SH(echo 'NETMAP-END'
} </dev/null)SH";

} // namespace

QStringList newZoneLabels()
{
    QStringList labels;
    for (int i = 0; i < kZoneLabels; ++i) {
        QString label;
        while (label.size() < kZoneLabelHexDigits)
            label += QStringLiteral("%1").arg(QRandomGenerator::system()->generate(), 8, 16,
                                              QLatin1Char('0'));
        labels.append(label.left(kZoneLabelHexDigits));
    }
    return labels;
}

bool isZoneLabel(QStringView text)
{
    if (text.size() != kZoneLabelHexDigits)
        return false;
    for (QChar ch : text) {
        if (!((ch >= u'0' && ch <= u'9') || (ch >= u'a' && ch <= u'f')))
            return false;
    }
    return true;
}

QString zoneServiceQuery(const QString &service, const QStringList &labels)
{
    if (labels.isEmpty() || labels.size() > kZoneLabels)
        return {};
    for (const QString &label : labels) {
        if (!isZoneLabel(label))
            return {};
    }
    const auto base = validHttpUrl(service);
    if (!base || !base->startsWith(QLatin1String("https://"), Qt::CaseInsensitive)
        || base->contains(u'#') || base->contains(u'?'))
        return {};
    const QString query = *base + QStringLiteral("?names=") + labels.join(u',');
    const auto valid = validHttpUrl(query);
    return valid ? *valid : QString();
}

QString shellQuote(const QString &value)
{
    QString quoted = value;
    quoted.replace(u'\'', QStringLiteral("'\\''"));
    return u'\'' + quoted + u'\'';
}

std::optional<QString> validInterfaceName(QStringView untrusted)
{
    static const QRegularExpression re(QStringLiteral("^[A-Za-z0-9_.-]{1,15}$"));
    const QString name = untrusted.toString();
    if (!re.match(name).hasMatch() || name == QLatin1String(".") || name == QLatin1String(".."))
        return std::nullopt;
    return name;
}

QString probeScript(const ProbePlan &plan, const CheckConfig &config)
{
    QString s = lit(kHead);
    s += QStringLiteral("nm_t=%1\n").arg(config.connectTimeoutSeconds);
    // The configured CA certificates, validated and re-encoded in dom0 (canonicalCaPem): a
    // quoted here-document of PEM lines (base64 and the two fixed armour lines) only.
    // The unique-name method, when the zone is configured and the names are valid.
    QStringList zoneNames;
    QString zoneQuery;
    if (plan.dns && config.hasDnsZone() && !plan.zoneLabels.isEmpty()) {
        zoneQuery = zoneServiceQuery(config.dnsZoneService, plan.zoneLabels);
        const auto zone = validDnsName(config.dnsZone);
        for (const QString &label : plan.zoneLabels) {
            const auto name = zone ? validDnsName(QString(label + u'.' + *zone)) : std::nullopt;
            if (name)
                zoneNames.append(shellQuote(*name));
        }
        if (zoneQuery.isEmpty() || zoneNames.size() != plan.zoneLabels.size())
            zoneNames.clear(); // left out: the parser reports the missing answer
    }
    const bool zone = plan.dns && config.hasDnsZone() && !plan.zoneLabels.isEmpty();
    const bool http = plan.externalIp || plan.tor || zone;
    std::optional<QByteArray> ca;
    if (http && !config.caPem.isEmpty())
        ca = canonicalCaPem(config.caPem);
    if (ca) {
        s += lit("nm_ca=$(mktemp 2>/dev/null) || nm_ca=\n"
                 "if [ -n \"$nm_ca\" ]; then cat > \"$nm_ca\" <<'NETMAP_CA'\n");
        s += QString::fromLatin1(*ca);
        s += lit("NETMAP_CA\nfi\n");
    } else {
        s += lit("nm_ca=\n");
    }
    if (http)
        s += lit(kHttp);
    if (plan.dns)
        s += lit(kDns);
    if (zone)
        s += lit(kZone);
    if (!plan.isolationTargets.isEmpty())
        s += lit(kIsolation);

    // Sections whose output is piped through sed run first, alone: their lines could otherwise
    // interleave with the background sections' lines.
    if (plan.interfaces)
        s += lit(kInterfaces);
    if (plan.ruleset) {
        s += QStringLiteral("nm_rc=%1\nnm_jc=%2\n").arg(kRulesetCapBytes).arg(kRulesetJsonCapBytes);
        s += lit(kRuleset);
    }

    if (plan.externalIp) {
        const QStringList &echo = config.ipEchoFor(plan.echoKind);
        for (int i = 0; i < echo.size(); ++i) {
            if (const auto url = validHttpUrl(echo.at(i)))
                s += QStringLiteral("if [ \"$nm_http\" != none ]; then nm_ip 4 %1 %2 & fi\n")
                         .arg(i)
                         .arg(shellQuote(*url));
        }
        // IPv6 always, whatever qvm-ls says: sys-net or a VPN can give a qube IPv6 that Qubes
        // does not manage. No answer at all means no IPv6 egress.
        for (int i = 0; i < config.ipEchoUrls6.size(); ++i) {
            if (const auto url = validHttpUrl(config.ipEchoUrls6.at(i)))
                s += QStringLiteral("if [ \"$nm_http\" != none ]; then nm_ip 6 %1 %2 & fi\n")
                         .arg(i)
                         .arg(shellQuote(*url));
        }
    }
    if (plan.tor) {
        if (const auto url = validHttpUrl(config.torCheckUrl))
            s += QStringLiteral("if [ \"$nm_http\" != none ]; then nm_tor %1 & fi\n")
                     .arg(shellQuote(*url));
    }
    if (zone) {
        if (!zoneNames.isEmpty())
            s += QStringLiteral("nm_zone %1 %2 &\n")
                     .arg(shellQuote(zoneQuery), zoneNames.join(u' '));
    } else if (plan.dns) {
        if (const auto name = validDnsName(config.dnsWhoami))
            s += QStringLiteral("nm_dns %1 &\n").arg(shellQuote(*name));
    }
    if (!plan.isolationTargets.isEmpty()) {
        QStringList targets;
        for (const QString &t : plan.isolationTargets.mid(0, kMaxIsolationTargets)) {
            if (const auto ip = validIpAddress(t))
                targets.append(shellQuote(*ip));
        }
        QStringList ports;
        for (int port : config.isolationPorts) {
            if (port > 0 && port < 65536)
                ports.append(QString::number(port));
        }
        s += QStringLiteral("for nm_a in %1; do\n").arg(targets.join(u' '));
        s += lit("  [ \"$nm_ping\" != none ] && nm_icmp \"$nm_a\" &\n");
        if (!ports.isEmpty())
            s += QStringLiteral("  if [ \"$nm_tcp\" != none ]; then for nm_p in %1; do nm_port "
                                "\"$nm_a\" \"$nm_p\" & done; fi\n")
                     .arg(ports.join(u' '));
        s += lit("done\n");
    }
    if (plan.externalIp || plan.tor || plan.dns || !plan.isolationTargets.isEmpty()) {
        // Marks that every background section was started; their answers follow before END.
        s += lit("echo 'NETMAP-STARTED'\nwait\n");
    }
    if (ca)
        s += lit("[ -n \"$nm_ca\" ] && rm -f \"$nm_ca\"\n");
    s += lit(kTail);
    return s;
}

QString drillBreakScript(const QString &interfaceName, int restoreAfterSeconds)
{
    const QString iface = validInterfaceName(interfaceName).value_or(QStringLiteral("invalid"));
    QString s = lit(kHead);
    s += QStringLiteral("nm_if=%1\nnm_after=%2\n").arg(shellQuote(iface)).arg(restoreAfterSeconds);
    s += lit(R"SH(nm_d=/run/qubes-netmap-drill
if [ ! -e "/sys/class/net/$nm_if" ]; then
  echo 'NETMAP-DRILL no-such-interface'
elif ! mkdir "$nm_d" 2>/dev/null; then
  echo 'NETMAP-DRILL busy'
else
  ip -4 route show table all dev "$nm_if" > "$nm_d/routes4" 2>/dev/null
  ip -6 route show table all dev "$nm_if" > "$nm_d/routes6" 2>/dev/null
  printf '%s\n' "$nm_if" > "$nm_d/interface"
  cat > "$nm_d/restore" <<'NETMAP_RESTORE'
d=/run/qubes-netmap-drill
i=$(cat "$d/interface")
ip link set dev "$i" up
while read -r r; do ip -4 route replace $r dev "$i"; done < "$d/routes4"
while read -r r; do ip -6 route replace $r dev "$i"; done < "$d/routes6"
rm -rf "$d"
NETMAP_RESTORE
  setsid sh -c "sleep $nm_after; sh $nm_d/restore >/dev/null 2>&1" </dev/null >/dev/null 2>&1 &
  echo $! > "$nm_d/pid"
  echo "NETMAP-DRILL restore-scheduled $nm_after"
  if ip link set dev "$nm_if" down; then echo 'NETMAP-DRILL broken'; else echo 'NETMAP-DRILL break-failed'; fi
fi
)SH");
    s += lit(kTail);
    return s;
}

QString drillRestoreScript()
{
    QString s = lit(kHead);
    s += lit(R"SH(nm_d=/run/qubes-netmap-drill
if [ -f "$nm_d/restore" ]; then
  nm_p=$(cat "$nm_d/pid" 2>/dev/null)
  case $nm_p in ''|*[!0-9]*) ;; *) kill -TERM -- "-$nm_p" 2>/dev/null ;; esac
  sh "$nm_d/restore" >/dev/null 2>&1
  echo 'NETMAP-DRILL restored'
else
  echo 'NETMAP-DRILL nothing-to-restore'
fi
)SH");
    s += lit(kInterfaces);
    s += lit(kTail);
    return s;
}

QStringList drillSteps(const QString &vpnQube, const QString &interfaceName,
                       const QString &downstreamQube, int restoreAfterSeconds)
{
    return {
        QStringLiteral("In %1, with the tunnel up: reach the IP echo endpoints. The drill goes on "
                       "only if %1 leaves by the VPN's exit; otherwise \"no egress\" later would "
                       "prove nothing, and nothing is changed.")
            .arg(downstreamQube),
        QStringLiteral(
            "In %1 as root: save the routes of %2 and schedule a detached restore that runs "
            "by itself after %3 s (even if this program dies).")
            .arg(vpnQube, interfaceName)
            .arg(restoreAfterSeconds),
        QStringLiteral(
            "In %1 as root: ip link set dev %2 down (the tunnel breaks without a clean shutdown).")
            .arg(vpnQube, interfaceName),
        QStringLiteral(
            "In %1: try to reach the IP echo endpoints; any answer means traffic still leaves.")
            .arg(downstreamQube),
        QStringLiteral(
            "In %1 as root: cancel the scheduled restore, bring %2 up and put its routes back.")
            .arg(vpnQube, interfaceName),
    };
}

QStringList qvmRunArguments(const QubeName &qube, const QString &script, bool asRoot,
                            bool autostart)
{
    QStringList args {QStringLiteral("--pass-io"), QStringLiteral("--no-gui"),
                      QStringLiteral("--no-colour-output"), QStringLiteral("--no-colour-stderr")};
    if (!autostart)
        args << QStringLiteral("--no-autostart");
    if (asRoot)
        args << QStringLiteral("-u") << QStringLiteral("root");
    args << qube.toString() << script;
    return args;
}

} // namespace netmap
