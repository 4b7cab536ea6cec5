#pragma once
// The kill-switch proof's own model, shared by its parts; include from .cpp files only.
//   rulesetvalues.cpp    protocol numbers and names, IPv4/IPv6 addresses, prefixes, shown text
//   rulesetnft.cpp       `nft -j list ruleset` read into chains and rules, within the caps
//   rulesetnftmatch.cpp  an nft match expression, and the values and sets on its right side
//   rulesetlegacy.cpp    `iptables-legacy-save` read into the same chains and rules
//   rulesetwalk.cpp      one packet through the chains (Evaluator): dropped, passed or unknown
//   rulesetclasses.cpp   the finite set of packet classes that stands for every packet
//   rulesetwords.cpp     what leaks and what drops, in words
//   rulesetproof.cpp     the proof per address family, and the API of rulesetproof.h
// Everything here reads untrusted input: a cap reached or a rule not understood makes the
// verdict "cannot prove", never a guess.

#include "rulesetproof.h"

#include <QByteArray>
#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>

#include <optional>

namespace netmap::rulesetproof {

// Caps on hostile input: beyond them the evaluator says it cannot prove, never guesses.
constexpr int kMaxItems = 20000;
constexpr int kMaxRules = 5000;
constexpr int kMaxExprsPerRule = 64;
constexpr int kMaxSetElements = 10000;
constexpr int kMaxDepth = 16; // nft's own jump depth limit
constexpr qint64 kMaxPacketClasses = 400000;
constexpr qint64 kMaxWork = 60000000; // packet classes x rules

enum class Field {
    IifName,
    OifName,
    IifGroup,
    OifGroup,
    CtState,
    L4Proto,
    NfProto,
    Saddr,
    Daddr,
    Saddr6,
    Daddr6,
    Sport,
    Dport,
    Never, // a match that never holds
    Unknown,
};

enum class Tri { False, True, Unknown };

struct Range
{
    quint32 lo = 0;
    quint32 hi = 0;
};

__extension__ typedef unsigned __int128 U128; // an IPv6 address, host order

struct Range6
{
    U128 lo = 0;
    U128 hi = 0;
};

struct Cond
{
    Field field = Field::Unknown;
    bool negate = false;
    QStringList names; // name patterns ("vif*")
    QList<Range> ranges;
    QList<Range6> ranges6; // Saddr6, Daddr6
    // 4 or 6: the match reads the IPv4 (ip ...) or IPv6 (ip6 ..., icmpv6 ...) header and so never
    // holds for a packet of the other family (nft adds that dependency itself); 0: either.
    int onlyFamily = 0;
    quint32 ctMask = 0;
    QList<quint32> protoDep; // ports: the packet's l4proto must be one of these
    bool thDep = false; // th sport/dport: raw bytes, unknown for a protocol without ports
    QString text;
};

enum class Action { None, Accept, Drop, Reject, Jump, Goto, Return, Unknown };

struct Rule
{
    QList<Cond> conds;
    Action action = Action::None;
    QString target;
    QString text; // the rule in nft or iptables words
    QString unknownWhy;
    int chain = -1;
    int number = 0; // 1-based position in its chain
};

struct Chain
{
    QString
        where; // "table ip qubes, chain forward" / "iptables-legacy table filter, chain FORWARD"
    QString family, table, name;
    bool base = false;
    QString hook;
    int prio = 0;
    bool policyDrop = false;
    QList<Rule> rules;
    int offset = 0; // index of its first rule in the flat memo
};

// --- values (rulesetvalues.cpp) -------------------------------------------------------------

bool portBearing(quint32 proto);
std::optional<quint32> protoNumber(const QString &name);
QString protoName(quint32 p);
std::optional<quint32> parseIpv4(const QString &s);
std::optional<U128> parseIpv6(const QString &s);
QString ip6Text(U128 v);
std::optional<Range6> prefixRange6(U128 addr, int len);
QString ipText(quint32 v);
std::optional<Range> prefixRange(quint32 addr, int len);
// Names and other text from the qube shown in a verdict: printable ASCII only, capped.
QString shown(const QString &untrusted, int cap = 80);
bool nameMatches(const QString &pattern, const QString &name);
quint32 domainMax(Field f);

// --- reading the rulesets -------------------------------------------------------------------

class Parser
{
public:
    QList<Chain> chains;
    QStringList notes;
    QString fatal; // the input cannot be used at all
    QStringList taint; // statements anywhere that could send a copy of a packet out (dup, fwd)

    // nft JSON (rulesetnft.cpp)
    void readNft(const QByteArray &json);

    struct NamedSet
    {
        QJsonArray elements;
        bool dynamic = false;
        bool verdictMap = false;
    };
    QHash<QString, NamedSet> sets; // "family table name"
    static QString key(const QString &family, const QString &table, const QString &name);
    QHash<QString, int> chainIndex; // key -> index in chains

    // iptables-legacy-save (rulesetlegacy.cpp)
    void readLegacy(const QByteArray &save);

private:
    void addSet(const QJsonObject &s, bool map);
    void addNftChain(const QJsonObject &c);
    void addNftRule(const QJsonObject &o);

    // An nft match expression and the values on its right (rulesetnftmatch.cpp).
    Cond nftMatch(const QJsonObject &m, const QString &family, const QString &table);

    // The value(s) on the right of a match, as ranges of a numeric field; nullopt when not
    // understood.
    std::optional<QList<Range>> numericValues(Field f, const QJsonValue &v, const QString &family,
                                              const QString &table, int depth = 0);
    // An IPv6 address, prefix, range or set of them on the right of an ip6 saddr/daddr match.
    std::optional<QList<Range6>> addressValues6(const QJsonValue &v, const QString &family,
                                                const QString &table, int depth = 0);
    std::optional<QList<Range>> listValues(Field f, const QJsonArray &a, const QString &family,
                                           const QString &table, int depth);
    std::optional<QStringList> nameValues(const QJsonValue &v, const QString &family,
                                          const QString &table, int depth = 0);
    std::optional<QStringList> nameList(const QJsonArray &a, const QString &family,
                                        const QString &table, int depth);

    void addLegacyRule(const QHash<QString, int> &local, const QString &chain,
                       const QStringList &w);
};

// --- the walk (rulesetwalk.cpp) -------------------------------------------------------------

struct Packet
{
    int family = 4; // 4 or 6
    U128 saddr6 = 0; // family 6
    U128 daddr6 = 0;
    QString iif;
    quint32 proto = 0;
    quint32 sport = 0;
    quint32 dport = 0;
    quint32 saddr = 0;
    quint32 daddr = 0;
};

struct Res
{
    bool drop = false;
    bool pass = false;
    bool ret = false;
    bool unknown = false;
    int dropRule = -1; // flat rule index; <= -2: policy of chain (-2 - index)
    int passRule = -1;
    int unknownRule = -1;
    int ambiguousRule = -1;

    void merge(const Res &o);
};

// Every packet class through the chains, memoised per rule for the current packet.
class Evaluator
{
public:
    explicit Evaluator(const QList<Chain> &chains);

    const Rule &ruleAt(int flat) const;
    // A flat rule index (or a chain's policy) in words.
    QString describe(int flat) const;
    // Why a rule is not understood, in words.
    QString unknownText(int flat) const;
    // The packet through a base chain, its policy included.
    Res base(int chain, const Packet &p);

    qint64 work = 0;

private:
    QList<Chain> m_chains;
    QList<Res> m_memo;
    QList<quint64> m_stamp;
    quint64 m_generation = 0;

    Res eval(int ci, int i, const Packet &p, int depth);
};

// --- packet classes (rulesetclasses.cpp) ----------------------------------------------------

// One representative of each class of packets of one family (4 or 6) that no rule tells apart,
// field by field; the classes are every combination of them.
struct PacketClasses
{
    int family = 4;
    QStringList iifs; // the last one is a client interface no rule names
    QList<quint32> protos, sports, dports, saddrs, daddrs; // saddrs, daddrs: family 4
    QList<U128> saddrs6, daddrs6; // family 6
    // The range of values each representative stands for, index for index.
    QList<Range> protoClasses, sportClasses, dportClasses, saddrClasses, daddrClasses;
    QList<Range6> saddrClasses6, daddrClasses6;

    int saddrCount() const;
    int daddrCount() const;
    qint64 count() const; // how many packet classes there are
};
PacketClasses packetClasses(const QList<Chain> &chains, int family);

// --- in words (rulesetwords.cpp) ------------------------------------------------------------

// One packet class that leaves by the uplink: indexes into PacketClasses (ports -1 when the
// protocol has none).
struct Leak
{
    int proto;
    int dport;
    int daddr;
    int saddr;
    int sport;
    QString iif;
};
// What leaks, by protocol class, destination, source and interface.
QString leakWords(const PacketClasses &classes, const QList<Leak> &leaks);
// The rules that drop the most packet classes (flat rule -> packets it decides).
QString decidedByWords(const QMap<int, int> &deciders, const Evaluator &ev);

} // namespace netmap::rulesetproof
