#include "expectations.h"
#include "expectationsyaml_p.h"

#include "io/files.h"
#include "model/qubename.h"
#include "model/snapshot.h"
#include "model/topology.h"
#include "yaml/strictyaml_p.h"

#include <QRegularExpression>

namespace netmap {

using namespace strictyaml;

std::optional<Expectation> parseEgress(QStringView untrusted)
{
    const QString value = untrusted.trimmed().toString();
    Expectation e;
    if (value == QLatin1String("clearnet")) {
        e.egress = Expectation::Egress::Clearnet;
    } else if (value == QLatin1String("vpn")) {
        e.egress = Expectation::Egress::Vpn;
    } else if (value == QLatin1String("tor")) {
        e.egress = Expectation::Egress::Tor;
    } else if (value == QLatin1String("none")) {
        e.egress = Expectation::Egress::None;
    } else if (value.startsWith(QLatin1String("via "))) {
        const auto name = QubeName::fromUntrusted(QStringView(value).mid(4).trimmed());
        if (!name || name->isDom0())
            return std::nullopt;
        e.egress = Expectation::Egress::Via;
        e.via = name->toString();
    } else {
        return std::nullopt;
    }
    return e;
}

namespace {

// One entry per qube, tag or allowed pair: 100,000 values are far above any real system.
constexpr YamlLimits kLimits {kMaxExpectationsFileBytes, 16, 100000, kMaxExpectationsFileBytes};

// Tags follow Qubes' rules for tag names: letters, digits, '_', '-', '.', ':'.
bool validTag(const QString &tag)
{
    static const QRegularExpression re(QStringLiteral("^[a-zA-Z0-9_.:-]{1,64}$"));
    return re.match(tag).hasMatch();
}

Expectation egressAt(const YAML::Node &node, const QString &what, const QString &why)
{
    const QString value = scalar(node, what);
    auto e = parseEgress(value);
    if (!e)
        throw errorAt(
            node, QStringLiteral("%1 must be clearnet, vpn, tor, none or \"via QUBE\"").arg(what));
    e->why = why;
    return *e;
}

QString qubeAt(const YAML::Node &node, const QString &what)
{
    const QString value = scalar(node, what);
    QString why;
    const auto name = QubeName::fromUntrusted(value, &why);
    if (!name)
        throw errorAt(node, QStringLiteral("%1 is not a valid qube name: %2").arg(what, why));
    return name->toString();
}

} // namespace

Expectations expectationsFromNode(const YAML::Node &root, const QString &where,
                                  const QSet<QString> &moreKeys)
{
    Expectations x;
    requireMap(root, where);
    checkKeys(
        root, where,
        QSet<QString> {QStringLiteral("qubes"), QStringLiteral("tags"), QStringLiteral("allow")}
            .unite(moreKeys));
    if (const YAML::Node qubes = root["qubes"]) {
        if (!qubes.IsNull()) {
            requireMap(qubes, QStringLiteral("qubes"));
            checkKeys(qubes, QStringLiteral("qubes"), {});
            for (auto it = qubes.begin(); it != qubes.end(); ++it) {
                const QString name = qubeAt(it->first, QStringLiteral("qubes: key"));
                x.byQube.insert(name,
                                egressAt(it->second, QStringLiteral("qubes.%1").arg(name),
                                         QStringLiteral("expectations file: qube %1").arg(name)));
            }
        }
    }
    if (const YAML::Node tags = root["tags"]) {
        if (!tags.IsNull()) {
            requireMap(tags, QStringLiteral("tags"));
            checkKeys(tags, QStringLiteral("tags"), {});
            for (auto it = tags.begin(); it != tags.end(); ++it) {
                const QString tag = scalar(it->first, QStringLiteral("tags: key"));
                if (!validTag(tag))
                    throw errorAt(
                        it->first,
                        QStringLiteral("tags: \"%1\" is not a valid tag name").arg(tag.left(64)));
                x.byTag.append({tag,
                                egressAt(it->second, QStringLiteral("tags.%1").arg(tag),
                                         QStringLiteral("expectations file: tag %1").arg(tag))});
            }
        }
    }
    if (const YAML::Node allow = root["allow"]) {
        if (!allow.IsNull()) {
            requireSequence(allow, QStringLiteral("allow"));
            for (const YAML::Node &pair : allow) {
                QString from, to;
                if (pair.IsSequence()) {
                    if (pair.size() != 2)
                        throw errorAt(
                            pair,
                            QStringLiteral("allow: each entry is [FROM, TO] (two qube names)"));
                    from = qubeAt(pair[0], QStringLiteral("allow: FROM"));
                    to = qubeAt(pair[1], QStringLiteral("allow: TO"));
                } else if (pair.IsMap()) {
                    checkKeys(pair, QStringLiteral("allow entry"),
                              {QStringLiteral("from"), QStringLiteral("to")});
                    if (!pair["from"] || !pair["to"])
                        throw errorAt(pair,
                                      QStringLiteral("allow: an entry needs both from: and to:"));
                    from = qubeAt(pair["from"], QStringLiteral("allow: from"));
                    to = qubeAt(pair["to"], QStringLiteral("allow: to"));
                } else {
                    throw errorAt(
                        pair,
                        QStringLiteral("allow: each entry is [FROM, TO] or {from: FROM, to: TO}"));
                }
                if (from == to)
                    throw errorAt(pair,
                                  QStringLiteral("allow: %1 to itself is meaningless").arg(from));
                x.allowedReach.insert({from, to});
            }
        }
    }
    return x;
}

namespace {

Expectations parse(const QByteArray &untrustedYaml, const QString &fileName)
{
    const YAML::Node root = loadDocument(untrustedYaml, kLimits);
    if (root.IsNull()) {
        Expectations x;
        x.sourceFile = fileName;
        return x;
    }
    Expectations x = expectationsFromNode(root, QStringLiteral("expectations"));
    x.sourceFile = fileName;
    return x;
}

} // namespace

Result<Expectations> expectationsFromYaml(const QByteArray &untrustedYaml, const QString &fileName)
{
    try {
        return parse(untrustedYaml, fileName);
    } catch (const YamlError &e) {
        return toError(e, fileName);
    } catch (const YAML::Exception &e) {
        return makeError(Error::Code::Input, plainMessage(text(e.msg)), fileName);
    }
}

Result<Expectations> loadExpectationsFile(const QString &path)
{
    auto data = readFileCapped(path, kMaxExpectationsFileBytes);
    if (!data) {
        Error e = data.error();
        e.code = Error::Code::Input;
        return e;
    }
    return expectationsFromYaml(*data, path);
}

Expectation expectationFor(const Expectations &expectations, const Snapshot &snapshot,
                           const Topology &topology, QStringView qube)
{
    const auto named = expectations.byQube.constFind(qube.toString());
    if (named != expectations.byQube.cend())
        return *named;
    if (const Qube *q = snapshot.find(qube)) {
        for (const auto &[tag, expectation] : expectations.byTag) {
            if (q->hasTag(tag))
                return expectation;
        }
    }
    return inferExpectation(snapshot, topology, qube);
}

Expectation intendedEgress(const Snapshot &snapshot, const Topology &topology, QStringView qube)
{
    return expectationFor(snapshot.intent, snapshot, topology, qube);
}

bool reachAllowed(const Expectations &expectations, QStringView from, QStringView to)
{
    return expectations.allowedReach.contains({from.toString(), to.toString()});
}

} // namespace netmap
