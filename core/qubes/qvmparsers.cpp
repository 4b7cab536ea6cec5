// The parsers of `qvm-ls --raw-data` (one qube a row, its cells validated field by field, a bad
// row refused with a reason while the rest loads) and of a single qvm-prefs / qubes-prefs value.
// qvm-firewall's parser is in qvmfirewall.cpp; both read lines with qvmparsers_p.h.

#include "qvmparsers.h"

#include "model/ipv4.h"
#include "model/untrustedtext.h"
#include "qvmparsers_p.h"

#include <QHash>

#include <algorithm>

namespace netmap {

using namespace qvmtext;

namespace {

constexpr int maxRows = 100000;
constexpr int maxTagBytes = 64 << 10; // all tags of one qube together (a tag has no length limit)
constexpr int maxTags = 1024;
constexpr int maxPrefsBytes = 256;

QList<QByteArrayView> splitOn(QByteArrayView data, char separator)
{
    QList<QByteArrayView> parts;
    qsizetype start = 0;
    for (;;) {
        const qsizetype end = data.indexOf(separator, start);
        if (end < 0) {
            parts << data.sliced(start);
            return parts;
        }
        parts << data.sliced(start, end - start);
        start = end + 1;
    }
}

bool isNoValue(QByteArrayView cell)
{
    return cell == "-";
}

// ---- qvm-ls ------------------------------------------------------------------------------

enum class Field {
    Name,
    Class,
    State,
    Label,
    Template,
    Netvm,
    DefaultDispvm,
    ProvidesNetwork,
    Ip,
    VisibleIp,
    Gateway,
    VisibleGateway,
    Tags,
    IsPreload,
    Ip6,
    VisibleIp6,
    Gateway6,
    Ignored
};

Field fieldFromName(const QString &name)
{
    static const QHash<QString, Field> fields = {
        {QStringLiteral("name"), Field::Name},
        {QStringLiteral("class"), Field::Class},
        {QStringLiteral("state"), Field::State},
        {QStringLiteral("label"), Field::Label},
        {QStringLiteral("template"), Field::Template},
        {QStringLiteral("netvm"), Field::Netvm},
        {QStringLiteral("default_dispvm"), Field::DefaultDispvm},
        {QStringLiteral("provides_network"), Field::ProvidesNetwork},
        {QStringLiteral("ip"), Field::Ip},
        {QStringLiteral("visible_ip"), Field::VisibleIp},
        {QStringLiteral("gateway"), Field::Gateway},
        {QStringLiteral("visible_gateway"), Field::VisibleGateway},
        {QStringLiteral("tags"), Field::Tags},
        {QStringLiteral("is_preload"), Field::IsPreload},
        {QStringLiteral("ip6"), Field::Ip6},
        {QStringLiteral("visible_ip6"), Field::VisibleIp6},
        {QStringLiteral("gateway6"), Field::Gateway6},
    };
    return fields.value(name.toLower(), Field::Ignored);
}

// Validates one cell into the qube; returns a reason on refusal.
std::optional<QString> applyCell(Qube &qube, Field field, const QString &fieldName,
                                 QByteArrayView untrustedCell, bool *preload, QString *note)
{
    const auto qubeRef = [&](std::optional<QubeName> &target) -> std::optional<QString> {
        if (isNoValue(untrustedCell)) {
            target.reset();
            return std::nullopt;
        }
        QString why;
        auto name = QubeName::fromUntrusted(latin(untrustedCell), &why);
        if (!name)
            return QStringLiteral("bad %1 %2: %3").arg(fieldName, snippet(untrustedCell), why);
        target = *name;
        return std::nullopt;
    };
    const auto address = [&](QString &target) -> std::optional<QString> {
        if (isNoValue(untrustedCell)) {
            target.clear();
            return std::nullopt;
        }
        const auto ip = validIpAddress(latin(untrustedCell));
        if (!ip)
            return QStringLiteral("bad %1 %2: not an IP address")
                .arg(fieldName, snippet(untrustedCell));
        target = *ip;
        return std::nullopt;
    };
    // Qubes' ip6 properties are IPv6Address: anything else (IPv4, a zone id) is not its output.
    const auto address6 = [&](QString &target) -> std::optional<QString> {
        if (isNoValue(untrustedCell)) {
            target.clear();
            return std::nullopt;
        }
        const auto ip = validIpv6(latin(untrustedCell));
        if (!ip)
            return QStringLiteral("bad %1 %2: not an IPv6 address")
                .arg(fieldName, snippet(untrustedCell));
        target = *ip;
        return std::nullopt;
    };
    const auto token = [&](QString &target, bool required) -> std::optional<QString> {
        if (isNoValue(untrustedCell)) {
            if (required)
                return QStringLiteral("no %1").arg(fieldName);
            target.clear();
            return std::nullopt;
        }
        if (!isToken(untrustedCell, 32))
            return QStringLiteral("bad %1 %2").arg(fieldName, snippet(untrustedCell));
        target = latin(untrustedCell);
        return std::nullopt;
    };

    switch (field) {
    case Field::Name: {
        if (isNoValue(untrustedCell))
            return QStringLiteral("no name");
        QString why;
        auto name = QubeName::fromUntrusted(latin(untrustedCell), &why);
        if (!name)
            return QStringLiteral("bad name %1: %2").arg(snippet(untrustedCell), why);
        qube.name = *name;
        return std::nullopt;
    }
    case Field::Class:
        return token(qube.klass, true);
    case Field::State:
        return token(qube.state, false);
    case Field::Label:
        return token(qube.label, false);
    case Field::Template:
        return qubeRef(qube.templ);
    case Field::Netvm:
        return qubeRef(qube.netvm);
    case Field::DefaultDispvm:
        return qubeRef(qube.defaultDispvm);
    case Field::ProvidesNetwork:
        // dom0 has no such property: '-'.
        if (untrustedCell == "True")
            qube.providesNetwork = true;
        else if (untrustedCell == "False" || isNoValue(untrustedCell))
            qube.providesNetwork = false;
        else
            return QStringLiteral("bad %1 %2: not True or False")
                .arg(fieldName, snippet(untrustedCell));
        return std::nullopt;
    case Field::Ip:
        return address(qube.ip);
    case Field::VisibleIp:
        return address(qube.visibleIp);
    case Field::Gateway:
        return address(qube.gateway);
    case Field::VisibleGateway:
        return address(qube.visibleGateway);
    case Field::Ip6:
        return address6(qube.ip6);
    case Field::VisibleIp6:
        return address6(qube.visibleIp6);
    case Field::Gateway6:
        return address6(qube.gateway6);
    case Field::Tags: {
        // Tags have no length limit in Qubes: a long or unusual tag never drops the qube. What
        // does not fit the caps, or is not a tag Qubes would accept, is left out and noted.
        qube.tags.clear();
        if (isNoValue(untrustedCell))
            return std::nullopt;
        qsizetype kept = 0;
        int left = 0;
        for (const QByteArrayView part : splitOn(untrustedCell, ',')) {
            // Qubes takes [a-zA-Z0-9_.-]+ and nothing else: anything else is not its output.
            if (!isToken(part, int(untrustedCell.size()), true))
                return QStringLiteral("bad tag %1").arg(snippet(part));
            if (kept + part.size() > maxTagBytes || qube.tags.size() >= maxTags) {
                ++left;
                continue;
            }
            const QString tag = latin(part);
            if (!qube.tags.contains(tag)) {
                qube.tags << tag;
                kept += part.size();
            }
        }
        if (left > 0 && note)
            *note = QStringLiteral("%1 tag(s) left out (beyond %2 tags or %3 KiB of tags)")
                        .arg(left)
                        .arg(maxTags)
                        .arg(maxTagBytes >> 10);
        return std::nullopt;
    }
    case Field::IsPreload:
        // 4.3 preloaded disposables; 4.2 has no such property and prints '-'.
        if (untrustedCell == "True")
            *preload = true;
        else if (untrustedCell != "False" && !isNoValue(untrustedCell))
            return QStringLiteral("bad %1 %2: not True or False")
                .arg(fieldName, snippet(untrustedCell));
        return std::nullopt;
    case Field::Ignored:
        return std::nullopt;
    }
    return std::nullopt;
}

} // namespace

QStringList qvmLsFields()
{
    return {QStringLiteral("name"),
            QStringLiteral("class"),
            QStringLiteral("state"),
            QStringLiteral("label"),
            QStringLiteral("template"),
            QStringLiteral("netvm"),
            QStringLiteral("default_dispvm"),
            QStringLiteral("provides_network"),
            QStringLiteral("ip"),
            QStringLiteral("visible_ip"),
            QStringLiteral("gateway"),
            QStringLiteral("visible_gateway"),
            QStringLiteral("tags"),
            QStringLiteral("is_preload"),
            QStringLiteral("ip6"),
            QStringLiteral("visible_ip6"),
            QStringLiteral("gateway6")};
}

QStringList qvmLsArguments()
{
    return {QStringLiteral("--raw-data"), QStringLiteral("--fields=") + qvmLsFields().join(u',')};
}

QvmLsParse parseQvmLs(const QByteArray &untrustedOutput, const QStringList &fields)
{
    QvmLsParse result;
    std::vector<Field> kinds;
    kinds.reserve(fields.size());
    for (const QString &field : fields)
        kinds.push_back(fieldFromName(field));
    const bool hasName = std::find(kinds.begin(), kinds.end(), Field::Name) != kinds.end();
    const bool hasTags = std::find(kinds.begin(), kinds.end(), Field::Tags) != kinds.end();

    QHash<QString, int> firstLine; // name -> line where it was accepted
    const QList<QByteArrayView> lines = splitLines(untrustedOutput);
    int rows = 0;
    for (int i = 0; i < lines.size(); ++i) {
        const int lineNo = i + 1;
        const QByteArrayView line = lines[i];
        if (isBlank(line))
            continue;
        const auto reject = [&](const QString &reason) {
            result.rejected.push_back({lineNo, reason});
        };
        if (++rows > maxRows) {
            reject(QStringLiteral("more than %1 rows; the rest is ignored").arg(maxRows));
            break;
        }
        // The tags cell may be long (tags have no length limit): with tags, each other cell is
        // bounded instead, and the whole output is (qvm-ls's output cap).
        if (!hasTags && line.size() > maxRowBytes) {
            reject(QStringLiteral("row longer than %1 bytes").arg(maxRowBytes));
            continue;
        }
        if (!isPrintableAscii(line)) {
            reject(QStringLiteral("row holds control or non-ASCII characters"));
            continue;
        }
        if (!hasName) {
            reject(QStringLiteral("the field list has no name"));
            continue;
        }
        const QList<QByteArrayView> cells = splitOn(line, '|');
        if (cells.size() != qsizetype(kinds.size())) {
            reject(
                QStringLiteral("expected %1 cells, found %2").arg(kinds.size()).arg(cells.size()));
            continue;
        }
        Qube qube;
        std::optional<QString> why;
        bool preload = false;
        QString note;
        for (size_t c = 0; c < kinds.size() && !why; ++c) {
            if (kinds[c] != Field::Tags && cells[int(c)].size() > maxRowBytes)
                why = QStringLiteral("%1 cell longer than %2 bytes")
                          .arg(fields[int(c)])
                          .arg(maxRowBytes);
            else
                why = applyCell(qube, kinds[c], fields[int(c)], cells[int(c)], &preload, &note);
        }
        if (why) {
            reject(*why);
            continue;
        }
        if (preload) {
            ++result.preloaded; // a preloaded disposable: not on the map
            continue;
        }
        if (!note.isEmpty())
            result.notes.push_back(
                {lineNo, QStringLiteral("%1: %2").arg(qube.name.toString(), note)});
        const QString &name = qube.name.toString();
        if (const auto it = firstLine.constFind(name); it != firstLine.cend()) {
            reject(QStringLiteral("duplicate name %1 (first on line %2)").arg(name).arg(*it));
            continue;
        }
        firstLine.insert(name, lineNo);
        result.qubes.push_back(std::move(qube));
    }
    std::sort(result.qubes.begin(), result.qubes.end(),
              [](const Qube &a, const Qube &b) { return a.name < b.name; });
    return result;
}

std::optional<PrefsValue> parsePrefsQubeValue(const QByteArray &untrustedOutput, QString *why)
{
    const auto refuse = [why](const QString &reason) -> std::optional<PrefsValue> {
        if (why)
            *why = reason;
        return std::nullopt;
    };
    if (untrustedOutput.size() > maxPrefsBytes)
        return refuse(QStringLiteral("output longer than %1 bytes").arg(maxPrefsBytes));
    const QByteArray trimmed = untrustedOutput.trimmed();
    if (trimmed.isEmpty())
        return PrefsValue {};
    if (trimmed.contains('\n') || trimmed.contains('\r'))
        return refuse(QStringLiteral("more than one line"));
    if (!isPrintableAscii(trimmed))
        return refuse(QStringLiteral("control or non-ASCII characters"));
    QString reason;
    const auto name = QubeName::fromUntrusted(latin(trimmed), &reason);
    if (!name)
        return refuse(QStringLiteral("bad qube name %1: %2").arg(snippet(trimmed), reason));
    return PrefsValue {false, name->toString()};
}

} // namespace netmap
