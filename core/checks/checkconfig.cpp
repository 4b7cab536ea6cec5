#include "checkconfig.h"

#include "io/files.h"
#include "model/ipv4.h"
#include "yaml/strictyaml_p.h"

#include <QFile>
#include <QFileInfo>
#include <QSet>
#include <QStandardPaths>
#include <QUrl>

namespace netmap {

using namespace strictyaml;

namespace {

const QString kDefaultResource = QStringLiteral(":/netmap/config.yaml");

// A config file is a few dozen values; these caps leave room for comments and long URL lists.
constexpr YamlLimits kLimits {kMaxConfigFileBytes, 16, 10000, kMaxConfigFileBytes};

// Values used when even the shipped resource is unreadable (it is compiled in, so only a broken
// build gets here); they equal resources/config.yaml.
CheckConfig builtInValues()
{
    CheckConfig c;
    c.ipEchoUrls
        = {QStringLiteral("https://api.ipify.org"), QStringLiteral("https://icanhazip.com"),
           QStringLiteral("https://ifconfig.me/ip")};
    c.ipEchoUrls6
        = {QStringLiteral("https://api6.ipify.org"), QStringLiteral("https://ipv6.icanhazip.com"),
           QStringLiteral("https://v6.ident.me")};
    c.torCheckUrl = QStringLiteral("https://check.torproject.org/api/ip");
    c.dnsWhoami = QStringLiteral("whoami.akamai.net");
    c.sourceFile = kDefaultResource;
    return c;
}

QString url(const YAML::Node &node, const QString &what)
{
    const QString value = scalar(node, what);
    const auto valid = validHttpUrl(value);
    if (!valid)
        throw errorAt(
            node,
            QStringLiteral("%1 must be an http:// or https:// URL with a valid host").arg(what));
    return *valid;
}

QStringList echoList(const YAML::Node &echo, const QString &key)
{
    requireSequence(echo, key);
    if (echo.size() < 2 || echo.size() > 8)
        throw errorAt(
            echo,
            QStringLiteral("%1 needs 2 to 8 independent URLs, not %2").arg(key).arg(echo.size()));
    QStringList urls;
    QSet<QString> hosts;
    for (const YAML::Node &item : echo) {
        const QString u = url(item, key + QStringLiteral(" entry"));
        const QString host = QUrl(u).host().toLower();
        if (hosts.contains(host))
            throw errorAt(item,
                          QStringLiteral("%1: %2 is used twice; the endpoints must be independent")
                              .arg(key, host));
        hosts.insert(host);
        urls.append(u);
    }
    return urls;
}

// A DER length at data[*pos]; advances *pos past it. -1 when malformed or not minimal enough to
// be plausible.
qint64 derLength(const QByteArray &data, qsizetype *pos)
{
    if (*pos >= data.size())
        return -1;
    const quint8 first = quint8(data[*pos]);
    ++*pos;
    if (first < 0x80)
        return first;
    const int bytes = first & 0x7f;
    if (bytes == 0 || bytes > 3)
        return -1;
    qint64 length = 0;
    for (int i = 0; i < bytes; ++i) {
        if (*pos >= data.size())
            return -1;
        length = (length << 8) | quint8(data[*pos]);
        ++*pos;
    }
    return length < 0x80 ? -1 : length;
}

// A certificate is a SEQUENCE that fills the DER exactly and starts with a SEQUENCE
// (tbsCertificate) that fits inside it.
bool plausibleCertificate(const QByteArray &der)
{
    qsizetype pos = 0;
    if (der.size() < 64 || quint8(der[0]) != 0x30)
        return false;
    ++pos;
    const qint64 outer = derLength(der, &pos);
    if (outer < 0 || pos + outer != der.size() || pos >= der.size() || quint8(der[pos]) != 0x30)
        return false;
    ++pos;
    const qint64 inner = derLength(der, &pos);
    return inner > 0 && pos + inner <= der.size();
}

void readCaFile(const YAML::Node &node, CheckConfig &c)
{
    const QString path = scalar(node, QStringLiteral("endpoints.ca_file"));
    if (!path.startsWith(u'/'))
        throw errorAt(node, QStringLiteral("endpoints.ca_file must be an absolute path"));
    auto data = readFileCapped(path, kMaxCaFileBytes);
    if (!data)
        throw errorAt(node, QStringLiteral("endpoints.ca_file: %1").arg(data.error().message));
    QString why;
    const auto pem = canonicalCaPem(*data, &why);
    if (!pem)
        throw errorAt(node, QStringLiteral("endpoints.ca_file %1: %2").arg(path, why));
    c.caFile = path;
    c.caPem = *pem;
}

void readEndpoints(const YAML::Node &node, CheckConfig &c)
{
    requireMap(node, QStringLiteral("endpoints"));
    checkKeys(node, QStringLiteral("endpoints"),
              {QStringLiteral("ip_echo"), QStringLiteral("ip_echo_vpn"),
               QStringLiteral("ip_echo_tor"), QStringLiteral("ip_echo6"),
               QStringLiteral("tor_check"), QStringLiteral("ca_file")});
    if (const YAML::Node n = node["ca_file"])
        readCaFile(n, c);
    if (const YAML::Node n = node["ip_echo_vpn"])
        c.ipEchoUrlsVpn = echoList(n, QStringLiteral("endpoints.ip_echo_vpn"));
    if (const YAML::Node n = node["ip_echo_tor"])
        c.ipEchoUrlsTor = echoList(n, QStringLiteral("endpoints.ip_echo_tor"));
    if (const YAML::Node n = node["ip_echo6"]) {
        c.ipEchoUrls6 = echoList(n, QStringLiteral("endpoints.ip_echo6"));
        // Asked over IPv6 only: an IPv4 literal could never answer.
        for (qsizetype i = 0; i < c.ipEchoUrls6.size(); ++i) {
            if (validIpv4(QUrl(c.ipEchoUrls6.at(i)).host()))
                throw errorAt(n[std::size_t(i)],
                              QStringLiteral("endpoints.ip_echo6: %1 is an IPv4 address; these "
                                             "endpoints are asked over IPv6 only")
                                  .arg(QUrl(c.ipEchoUrls6.at(i)).host()));
        }
    }
    if (const YAML::Node echo = node["ip_echo"]) {
        requireSequence(echo, QStringLiteral("endpoints.ip_echo"));
        if (echo.size() < 2 || echo.size() > 8)
            throw errorAt(echo,
                          QStringLiteral("endpoints.ip_echo needs 2 to 8 independent URLs, not %1")
                              .arg(echo.size()));
        QStringList urls;
        QSet<QString> hosts;
        for (const YAML::Node &item : echo) {
            const QString u = url(item, QStringLiteral("endpoints.ip_echo entry"));
            const QString host = QUrl(u).host().toLower();
            if (hosts.contains(host))
                throw errorAt(
                    item,
                    QStringLiteral(
                        "endpoints.ip_echo: %1 is used twice; the endpoints must be independent")
                        .arg(host));
            hosts.insert(host);
            urls.append(u);
        }
        c.ipEchoUrls = urls;
    }
    if (const YAML::Node tor = node["tor_check"])
        c.torCheckUrl = url(tor, QStringLiteral("endpoints.tor_check"));
}

void readDns(const YAML::Node &node, CheckConfig &c)
{
    requireMap(node, QStringLiteral("dns"));
    checkKeys(node, QStringLiteral("dns"),
              {QStringLiteral("whoami"), QStringLiteral("zone"), QStringLiteral("zone_service")});
    if (const YAML::Node whoami = node["whoami"]) {
        const QString value = scalar(whoami, QStringLiteral("dns.whoami"));
        const auto valid = validDnsName(value);
        if (!valid || !valid->contains(u'.'))
            throw errorAt(
                whoami, QStringLiteral("dns.whoami must be a DNS name such as whoami.akamai.net"));
        c.dnsWhoami = *valid;
    }
    const YAML::Node zone = node["zone"];
    const YAML::Node service = node["zone_service"];
    if (bool(zone) != bool(service))
        throw errorAt(node,
                      QStringLiteral("dns.zone and dns.zone_service go together: give both "
                                     "or neither"));
    if (zone) {
        const QString value = scalar(zone, QStringLiteral("dns.zone"));
        const auto valid = validDnsName(value);
        // Room for a 20-character probe label and its dot within the 253 of a DNS name.
        if (!valid || !valid->contains(u'.') || valid->size() > 200)
            throw errorAt(zone,
                          QStringLiteral("dns.zone must be a DNS name of at most 200 "
                                         "characters such as dnsleak.example.org"));
        c.dnsZone = valid->toLower();
        const QString u = url(service, QStringLiteral("dns.zone_service"));
        // Its answer decides which resolvers asked: over plain HTTP a network qube on the path
        // could forge it as easily as the DNS answer the method replaces.
        if (!u.startsWith(QLatin1String("https://"), Qt::CaseInsensitive) || u.contains(u'#')
            || u.contains(u'?') || u.size() > 400)
            throw errorAt(service,
                          QStringLiteral("dns.zone_service must be an https:// URL of at "
                                         "most 400 characters without ?query or "
                                         "#fragment (the probe adds ?names=...)"));
        c.dnsZoneService = u;
    }
}

void readChecks(const YAML::Node &node, CheckConfig &c)
{
    requireMap(node, QStringLiteral("checks"));
    checkKeys(node, QStringLiteral("checks"),
              {QStringLiteral("timeout_seconds"), QStringLiteral("connect_timeout_seconds"),
               QStringLiteral("concurrency"), QStringLiteral("isolation_ports")});
    if (const YAML::Node n = node["timeout_seconds"])
        c.timeoutSeconds = integer(n, QStringLiteral("checks.timeout_seconds"), 2, 600);
    if (const YAML::Node n = node["connect_timeout_seconds"])
        c.connectTimeoutSeconds
            = integer(n, QStringLiteral("checks.connect_timeout_seconds"), 1, 120);
    if (const YAML::Node n = node["concurrency"])
        c.concurrency = integer(n, QStringLiteral("checks.concurrency"), 1, 32);
    if (const YAML::Node ports = node["isolation_ports"]) {
        if (ports.IsNull()) {
            c.isolationPorts.clear();
        } else {
            requireSequence(ports, QStringLiteral("checks.isolation_ports"));
            if (ports.size() > 16)
                throw errorAt(ports,
                              QStringLiteral("checks.isolation_ports holds at most 16 ports"));
            QList<int> list;
            for (const YAML::Node &p : ports) {
                const int port
                    = integer(p, QStringLiteral("checks.isolation_ports entry"), 1, 65535);
                if (list.contains(port))
                    throw errorAt(p,
                                  QStringLiteral("checks.isolation_ports: port %1 is listed twice")
                                      .arg(port));
                list.append(port);
            }
            c.isolationPorts = list;
        }
    }
    if (c.connectTimeoutSeconds >= c.timeoutSeconds)
        throw errorAt(node,
                      QStringLiteral("checks.connect_timeout_seconds (%1) must be smaller than "
                                     "checks.timeout_seconds (%2)")
                          .arg(c.connectTimeoutSeconds)
                          .arg(c.timeoutSeconds));
}

QStringList addresses(const YAML::Node &node, const QString &what)
{
    requireSequence(node, what);
    if (node.size() < 1 || node.size() > 16)
        throw errorAt(node, QStringLiteral("%1 holds 1 to 16 addresses").arg(what));
    QStringList out;
    for (const YAML::Node &item : node) {
        const auto ip = validIpAddress(scalar(item, what + QStringLiteral(" entry")));
        if (!ip)
            throw errorAt(item, QStringLiteral("%1 entries must be IP addresses").arg(what));
        if (!out.contains(*ip))
            out.append(*ip);
    }
    return out;
}

void readBaseline(const YAML::Node &node, CheckConfig &c)
{
    requireMap(node, QStringLiteral("baseline"));
    checkKeys(node, QStringLiteral("baseline"),
              {QStringLiteral("exit_ips"), QStringLiteral("resolvers")});
    if (const YAML::Node n = node["exit_ips"])
        c.baselineExitIps = addresses(n, QStringLiteral("baseline.exit_ips"));
    if (const YAML::Node n = node["resolvers"])
        c.baselineResolvers = addresses(n, QStringLiteral("baseline.resolvers"));
}

CheckConfig parse(const QByteArray &untrustedYaml, CheckConfig c)
{
    const YAML::Node root = loadDocument(untrustedYaml, kLimits);
    if (root.IsNull())
        return c; // an empty file keeps every default
    requireMap(root, QStringLiteral("the config file"));
    checkKeys(root, QStringLiteral("config"),
              {QStringLiteral("endpoints"), QStringLiteral("dns"), QStringLiteral("checks"),
               QStringLiteral("baseline")});
    if (const YAML::Node n = root["endpoints"])
        readEndpoints(n, c);
    if (const YAML::Node n = root["dns"])
        readDns(n, c);
    if (const YAML::Node n = root["checks"])
        readChecks(n, c);
    if (const YAML::Node n = root["baseline"])
        readBaseline(n, c);
    return c;
}

} // namespace

std::optional<QByteArray> canonicalCaPem(const QByteArray &untrusted, QString *why)
{
    auto fail = [&](const QString &reason) -> std::optional<QByteArray> {
        if (why)
            *why = reason;
        return std::nullopt;
    };
    if (untrusted.size() > kMaxCaFileBytes)
        return fail(QStringLiteral("larger than %1 KiB").arg(kMaxCaFileBytes >> 10));
    static const QByteArray begin("-----BEGIN CERTIFICATE-----");
    static const QByteArray end("-----END CERTIFICATE-----");
    QByteArray out;
    QByteArray body;
    bool inside = false;
    int count = 0;
    int lineNo = 0;
    for (QByteArray line : untrusted.split('\n')) {
        ++lineNo;
        if (line.endsWith('\r'))
            line.chop(1);
        if (!inside) {
            if (line.isEmpty())
                continue;
            if (line != begin)
                return fail(QStringLiteral("line %1 is neither blank nor the start of a PEM "
                                           "certificate (only certificates may be in the file)")
                                .arg(lineNo));
            inside = true;
            body.clear();
            continue;
        }
        if (line == end) {
            const auto der
                = QByteArray::fromBase64Encoding(body, QByteArray::AbortOnBase64DecodingErrors);
            if (!der || !plausibleCertificate(der.decoded))
                return fail(QStringLiteral("the certificate ending on line %1 is not base64 of a "
                                           "DER certificate")
                                .arg(lineNo));
            if (++count > 8)
                return fail(QStringLiteral("more than 8 certificates"));
            out += begin + '\n';
            const QByteArray b64 = der.decoded.toBase64();
            for (qsizetype i = 0; i < b64.size(); i += 64)
                out += b64.mid(i, 64) + '\n';
            out += end + '\n';
            inside = false;
            continue;
        }
        if (line.isEmpty() || line.size() > 76)
            return fail(
                QStringLiteral("line %1 is not a base64 line of a certificate").arg(lineNo));
        for (char ch : std::as_const(line)) {
            const bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
                || (ch >= '0' && ch <= '9') || ch == '+' || ch == '/' || ch == '=';
            if (!ok)
                return fail(
                    QStringLiteral("line %1 is not a base64 line of a certificate").arg(lineNo));
        }
        body += line;
    }
    if (inside)
        return fail(QStringLiteral("a certificate is not closed (no END CERTIFICATE line)"));
    if (out.size() > kMaxCaPemBytes)
        return fail(
            QStringLiteral("the certificates take more than %1 KiB").arg(kMaxCaPemBytes >> 10));
    if (count == 0)
        return fail(QStringLiteral("no PEM certificate in it"));
    return out;
}

bool isPlainHttp(const QString &url)
{
    return url.startsWith(QLatin1String("http://"), Qt::CaseInsensitive);
}

const QStringList &CheckConfig::ipEchoFor(const QString &kind) const
{
    if (kind == QLatin1String("vpn") && !ipEchoUrlsVpn.isEmpty())
        return ipEchoUrlsVpn;
    if (kind == QLatin1String("tor") && !ipEchoUrlsTor.isEmpty())
        return ipEchoUrlsTor;
    return ipEchoUrls;
}

CheckConfig CheckConfig::defaults()
{
    QFile file(kDefaultResource);
    if (file.open(QIODevice::ReadOnly)) {
        try {
            CheckConfig c = parse(file.read(kMaxConfigFileBytes), builtInValues());
            c.sourceFile = kDefaultResource;
            return c;
        } catch (const YamlError &) {
        } catch (const YAML::Exception &) {
        }
    }
    return builtInValues();
}

Result<CheckConfig> checkConfigFromYaml(const QByteArray &untrustedYaml, const QString &fileName)
{
    try {
        CheckConfig c = parse(untrustedYaml, CheckConfig::defaults());
        c.sourceFile = fileName;
        return c;
    } catch (const YamlError &e) {
        return toError(e, fileName);
    } catch (const YAML::Exception &e) {
        return makeError(Error::Code::Input, plainMessage(text(e.msg)), fileName);
    }
}

Result<CheckConfig> loadCheckConfigFile(const QString &path)
{
    auto data = readFileCapped(path, kMaxConfigFileBytes);
    if (!data) {
        Error e = data.error();
        e.code = Error::Code::Input;
        return e;
    }
    return checkConfigFromYaml(*data, path);
}

QString userCheckConfigPath()
{
    return QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation)
        + QStringLiteral("/qubes-netmap/config.yaml");
}

Result<CheckConfig> loadCheckConfig(const QString &explicitPath)
{
    if (!explicitPath.isEmpty())
        return loadCheckConfigFile(explicitPath);
    const QString user = userCheckConfigPath();
    if (QFileInfo::exists(user))
        return loadCheckConfigFile(user);
    return CheckConfig::defaults();
}

} // namespace netmap
