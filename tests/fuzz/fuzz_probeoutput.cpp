// Fuzz target: what the probe script prints inside a qube (NETMAP-... line protocol): IP echo
// answers, the Tor check JSON, DNS answers, isolation (reach) lines, interfaces, ruleset
// listings, drill events. A compromised qube controls every byte.

#include "checks/probeparser.h"
#include "checks/rulesetproof.h"
#include "fuzzcheck.h"
#include "model/ipv4.h"

#include <QByteArray>
#include <QHostAddress>

#include <cstddef>
#include <cstdint>

using namespace netmap;

namespace {
bool isAddress(const QString &text)
{
    QHostAddress a;
    return a.setAddress(text) && !text.contains(u'%');
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray untrusted(reinterpret_cast<const char *>(data), qsizetype(size));
    const ProbeEvidence e = parseProbeOutput(untrusted);

    for (const QString &p : e.problems)
        FUZZ_CHECK(!p.isEmpty() && p.size() < 512 && fuzz::isOneLinePlainText(p));
    for (auto it = e.ipEcho.cbegin(); it != e.ipEcho.cend(); ++it)
        FUZZ_CHECK(it->ip.isEmpty() || isAddress(it->ip));
    if (e.tor)
        FUZZ_CHECK(e.tor->ip.isEmpty() || isAddress(e.tor->ip));
    FUZZ_CHECK(fuzz::isOneLinePlainText(e.torProblem));
    for (const QString &r : e.resolvers)
        FUZZ_CHECK(isAddress(r));
    QStringList resolvers = e.resolvers;
    FUZZ_CHECK(resolvers.removeDuplicates() == 0);
    for (const ReachProbe &r : e.reaches)
        FUZZ_CHECK(isAddress(r.ip) && fuzz::isOneLinePlainText(r.probe));
    for (const InterfaceInfo &i : e.interfaces) {
        FUZZ_CHECK(!i.name.isEmpty() && i.name.size() <= 15 && fuzz::isOneLinePlainText(i.name));
        FUZZ_CHECK(i.name != QLatin1String(".") && i.name != QLatin1String(".."));
        FUZZ_CHECK(!i.name.contains(u'/'));
    }
    for (const QString &t : e.upTunnels())
        FUZZ_CHECK(fuzz::isOneLinePlainText(t));
    for (const QString &w : e.drillEvents)
        FUZZ_CHECK(fuzz::isOneLinePlainText(w));
    for (const QString *tool :
         {&e.httpTool, &e.dnsTool, &e.zoneTool, &e.pingTool, &e.tcpTool, &e.rulesetTool})
        FUZZ_CHECK(tool->size() <= 16 && fuzz::isOneLinePlainText(*tool));
    // The unique-name method: the names' answers and the zone service's answer (its labels are
    // the ones the probe made, so the fuzzer's own bytes cannot match them by chance; fixed ones
    // stand in).
    for (const QString &a : e.zoneNames)
        FUZZ_CHECK(a.isEmpty() || isAddress(a));
    FUZZ_CHECK(e.zoneServiceLines.size() <= kMaxZoneServiceLines);
    const QStringList labels {QStringLiteral("0123456789abcdef0001"),
                              QStringLiteral("0123456789abcdef0002")};
    QString why;
    if (const auto asked = parseZoneServiceAnswer(e.zoneServiceLines, labels, &why)) {
        FUZZ_CHECK(asked->keys() == labels);
        for (const QStringList &resolvers : *asked) {
            for (const QString &r : resolvers)
                FUZZ_CHECK(isAddress(r));
        }
    } else {
        FUZZ_CHECK(!why.isEmpty() && fuzz::isOneLinePlainText(why));
    }
    // The kill-switch proof reads the JSON ruleset and the legacy rules (the qube's own text).
    const KillSwitchProof proof = proveKillSwitch(e.nftJson, e.legacySave);
    FUZZ_CHECK(proof.outcome != KillSwitchProof::Outcome::Proven || !proof.decidedBy.isEmpty());
    return 0;
}
